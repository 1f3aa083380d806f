#include "tools/load/runner.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

#include "tools/load/client.h"
#include "tools/load/pacing.h"
#include "tools/load/report.h"

namespace ringway::load {

namespace {

// Every thread starts its clock this long after the last one is connected,
// so none starts behind.
constexpr int64_t kStartDelayNs = 2'000'000;
constexpr auto kPoll = std::chrono::milliseconds(20);

void print_progress(const std::string& line, bool tty) {
  if (tty) {
    std::fprintf(stderr, "\r%s\x1b[K", line.c_str());
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

}  // namespace

bool build_mix(const Options& options, std::vector<RequestSpec>& mix, std::string& error) {
  mix.clear();
  if (!options.requests_file.empty()) return load_request_file(options.requests_file, mix, error);
  RequestSpec spec;
  spec.target = options.target.path;
  mix.push_back(std::move(spec));
  return true;
}

bool run_load(const Options& options, const std::vector<RequestSpec>& mix,
              const std::atomic<bool>& stop, bool progress, bool progress_tty, Summary& out,
              std::string& error) {
  std::optional<Schedule> schedule;
  if (!options.closed) schedule.emplace(options.rate, options.connections);

  RunPlan plan;
  plan.options = &options;
  plan.schedule = schedule ? &*schedule : nullptr;
  plan.stop = &stop;
  for (const RequestSpec& spec : mix) {
    plan.requests.push_back(render_request(spec, options.target.host_header, options.headers));
    plan.head_only.push_back(spec.method == "HEAD");
  }

  std::vector<std::unique_ptr<Client>> clients;
  for (int t = 0; t < options.threads; ++t) {
    clients.push_back(std::make_unique<Client>(plan, t));
    if (!clients.back()->setup(error)) return false;
  }

  // Threads connect, report ready, wait for the common start, run, report done.
  std::atomic<int> ready{0};
  std::atomic<int> done{0};
  std::atomic<int64_t> start_ns{0};
  Timing timing;
  std::vector<std::thread> threads;
  for (int t = 0; t < options.threads; ++t) {
    threads.emplace_back([&, t] {
      Client& client = *clients[static_cast<size_t>(t)];
      client.preconnect(mono_now_ns() + options.timeout_ns);
      ready.fetch_add(1);
      ready.notify_all();
      int64_t start = start_ns.load();
      while (start == 0) {
        start_ns.wait(0);
        start = start_ns.load();
      }
      client.run(timing);
      done.fetch_add(1);
    });
  }
  for (int r = ready.load(); r < options.threads; r = ready.load()) ready.wait(r);
  timing.start_ns = mono_now_ns() + kStartDelayNs;
  timing.record_from_ns = timing.start_ns + options.warmup_ns;
  timing.end_ns = timing.record_from_ns + options.duration_ns;
  start_ns.store(timing.start_ns);  // publishes `timing` to the threads
  start_ns.notify_all();

  // Progress once per second while the threads run.
  int64_t next_tick = timing.start_ns + 1'000'000'000;
  uint64_t last_requests = 0;
  int64_t last_tick = timing.start_ns;
  bool printed = false;
  while (done.load() < options.threads) {
    std::this_thread::sleep_for(kPoll);
    const int64_t now = mono_now_ns();
    if (!progress || now < next_tick) continue;
    uint64_t requests = 0, errors = 0, timeouts = 0;
    for (const auto& c : clients) {
      requests += c->live().requests.load(std::memory_order_relaxed);
      errors += c->live().errors.load(std::memory_order_relaxed);
      timeouts += c->live().timeouts.load(std::memory_order_relaxed);
    }
    const double rate = (requests - last_requests) * 1e9 / static_cast<double>(now - last_tick);
    print_progress(progress_line((now - timing.start_ns) / 1e9, requests, rate, errors, timeouts),
                   progress_tty);
    printed = true;
    last_requests = requests;
    last_tick = now;
    next_tick += 1'000'000'000;
  }
  for (std::thread& t : threads) t.join();
  if (printed && progress_tty) std::fputs("\r\x1b[K", stderr);

  out = Summary{};
  out.url = options.url;
  out.closed = options.closed;
  out.target_rate = options.closed ? 0 : options.rate;
  out.threads = options.threads;
  out.connections = options.connections;
  out.pipeline = options.pipeline;
  out.warmup_s = options.warmup_ns / 1e9;
  int64_t finished = timing.record_from_ns;
  for (const auto& c : clients) {
    out.counters.merge(c->counters());
    out.latency.merge(c->latency());
    out.unanswered.merge(c->unanswered());
    finished = std::max(finished, c->finished_ns());
  }
  out.duration_s = (finished - timing.record_from_ns) / 1e9;
  return true;
}

}  // namespace ringway::load
