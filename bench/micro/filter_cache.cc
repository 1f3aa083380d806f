// The response cache's store: what a reload's hand-over costs the new
// worker (Store::adopt_older, a slice per loop turn).
//
//   ringway-micro-cache [--benchmark_filter=Adopt]

#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "filters/cache/store.h"

namespace {

using namespace ringway::filters::cache;

// N entries of 1 KiB under distinct keys, with three stored headers each.
Store filled(int n) {
  Store s(uint64_t{1} << 34);
  auto body = std::make_shared<const std::string>(1024, 'x');
  for (int i = 0; i < n; ++i) {
    std::string key = "www.example.com/static/asset-";
    key += std::to_string(i);
    key += ".js";
    s.insert(make_entry(std::move(key), {}, "", 200,
                        {{"content-type", "application/javascript"}, {"cache-control", "max-age=3600"},
                         {"etag", "\"abc\""}},
                        body, {}, EntryTimes{1, 1, 1}, HeuristicPolicy{}));
  }
  return s;
}

// A new worker that stored 1,000 responses of its own adopts the old store
// one slice (512 entries, as CacheWorker::adopt_slice moves per loop turn)
// at a time: the time per slice is what one loop turn spends on it.
void BM_AdoptSlice(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  Store older = filled(n);
  Store mine = filled(1000);
  size_t slices = 0;
  for (auto _ : state) {
    if (older.entries() == 0) {
      state.PauseTiming();
      older = filled(n);
      mine = filled(1000);
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(mine.adopt_older(older, 512, uint64_t{1} << 20));
    ++slices;
  }
  state.SetItemsProcessed(static_cast<int64_t>(slices) * 512);
}
BENCHMARK(BM_AdoptSlice)->Arg(10000)->Arg(100000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
