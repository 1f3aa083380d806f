#pragma once
// The state of one limit for all keys: a fixed-size, open-addressed table of
// GCRA cells shared by every worker (docs/filters/rate_limit.md).
//
// Why one shared table and not one per worker: a client's keep-alive
// connections land on different workers (SO_REUSEPORT hashing), so per-worker
// buckets would let it through N times over on N workers, or force each worker
// to rate/N, which is wrong whenever the client's connections are not spread
// evenly. Why lock-free: every request of every worker goes through here; a
// mutex would serialise the workers on the hottest key. Why fixed-size: memory
// is bounded and allocated at config load, whatever keys clients make up.
//
// A cell is two atomic 64-bit words: the key's hash and its TAT (ns of
// CLOCK_MONOTONIC, rate.h). A request updates its key's TAT with one
// compare_exchange, so decisions are exact across cores: two workers can never
// both spend the last token.
//
// Eviction: a cell whose TAT is not after `now` holds a full bucket, which is
// exactly what an absent key has, so any key may take it over; idle keys
// vanish by themselves, with no sweeper. A key probes kWindow consecutive cells
// from its home slot; when every one of them holds another key that is still
// live, the table is "full" for that key (the filter decides what that means).
//
// Taking over a cell changes two words, so it is fenced: the TAT word is first
// swapped to kClaiming, then the key written, then the new TAT published.
// Readers that meet kClaiming wait for those two stores (the only wait in the
// table). A cell's TAT only ever grows (a new owner's TAT is now + T, later
// than the old TAT <= now), so a compare_exchange against a value read before
// a takeover can never succeed afterwards: no ABA, and no update meant for
// the old key lands on the new one.
//
// Two workers inserting the same new key meet on the same free cell (the
// first free one in probe order): one claims it, the other waits for the claim
// and finds the key. They can take two cells only if they see the window
// differently, i.e. a third key's TAT falls between their two `now`s; the new key
// then gets at most one extra request per worker, once, when its bucket was
// full anyway (docs, "Accuracy").

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "filters/rate_limit/rate.h"

namespace ringway::filters::rate_limit {

class GcraTable {
 public:
  static constexpr size_t kWindow = 8;  // cells probed per key

  enum class Verdict : uint8_t { kAllowed, kLimited, kFull };
  struct Result {
    Verdict verdict = Verdict::kFull;
    // kAllowed: the key's TAT after this request (acquire) or after it would
    // pass (peek); kLimited: its TAT now, unchanged; kFull: when the first
    // cell of the key's window frees up.
    int64_t tat = 0;
  };

  // At least `min_cells` cells, rounded up to a power of two (and to kWindow).
  explicit GcraTable(size_t min_cells);

  size_t size() const { return mask_ + 1; }

  // Decides a request of `key` at `now` (ns) and, when it passes, charges it.
  // Safe to call from any number of threads at once.
  Result acquire(uint64_t key, int64_t now, const Gcra& gcra) const {
    return run(key, now, gcra, true);
  }
  // The same decision without changing anything (several limits: charge none
  // of them unless all would pass).
  Result peek(uint64_t key, int64_t now, const Gcra& gcra) const {
    return run(key, now, gcra, false);
  }

  // Cells holding a key whose bucket is not full at `now` (tests, stats).
  size_t live(int64_t now) const;

  // The cell index a key starts probing at (tests build colliding keys with it).
  size_t home(uint64_t key) const { return fix(key) & mask_; }

 private:
  struct Cell {
    std::atomic<uint64_t> key{0};  // 0: never used
    std::atomic<int64_t> tat{0};
  };

  // Key hashes are never 0, so 0 can mark a cell that never held a key.
  static uint64_t fix(uint64_t key) { return key == 0 ? 1 : key; }
  Result run(uint64_t key, int64_t now, const Gcra& gcra, bool charge) const;

  std::unique_ptr<Cell[]> cells_;  // contents are atomics: mutable through a const table
  size_t mask_ = 0;
};

}  // namespace ringway::filters::rate_limit
