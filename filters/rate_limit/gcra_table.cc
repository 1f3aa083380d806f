#include "filters/rate_limit/gcra_table.h"

#include <algorithm>
#include <thread>

namespace ringway::filters::rate_limit {
namespace {

// Marks a cell being taken over by a new key (its TAT word meanwhile).
// Real TATs are >= 0: ns of a monotonic clock.
constexpr int64_t kClaiming = -1;

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// The cell's TAT once no takeover is in progress. A takeover is two stores
// long; spin briefly, then yield in case its thread was preempted between them.
int64_t settled(const std::atomic<int64_t>& tat) {
  int64_t t = tat.load(std::memory_order_acquire);
  for (int spins = 0; t == kClaiming; ++spins) {
    if (spins < 64)
      cpu_relax();
    else
      std::this_thread::yield();
    t = tat.load(std::memory_order_acquire);
  }
  return t;
}

}  // namespace

GcraTable::GcraTable(size_t min_cells) {
  size_t n = kWindow;
  while (n < min_cells) n <<= 1;
  cells_.reset(new Cell[n]);
  mask_ = n - 1;
}

size_t GcraTable::live(int64_t now) const {
  size_t n = 0;
  for (size_t i = 0; i <= mask_; ++i)
    if (cells_[i].key.load(std::memory_order_relaxed) != 0 &&
        cells_[i].tat.load(std::memory_order_relaxed) > now)
      ++n;
  return n;
}

GcraTable::Result GcraTable::run(uint64_t key, int64_t now, const Gcra& gcra, bool charge) const {
  key = fix(key);
  const size_t start = key & mask_;
  for (;;) {
    // One pass over the window: the key's own cell, else the first cell free
    // for takeover. The TAT is read before the key: a compare_exchange that
    // succeeds against this TAT then proves the key did not change in between.
    Cell* own = nullptr;
    int64_t tat = 0;
    Cell* spare = nullptr;
    int64_t spare_tat = 0;
    int64_t first_free = INT64_MAX;  // when the window's first cell frees up
    for (size_t i = 0; i < kWindow; ++i) {
      Cell& cell = cells_[(start + i) & mask_];
      int64_t t = settled(cell.tat);
      if (cell.key.load(std::memory_order_acquire) == key) {
        own = &cell;
        tat = t;
        break;
      }
      if (spare == nullptr && t <= now) {
        spare = &cell;
        spare_tat = t;
      }
      first_free = std::min(first_free, t);
    }

    if (own != nullptr) {
      for (;;) {
        int64_t base = std::max(tat, now);
        if (base - now > gcra.tolerance) return {Verdict::kLimited, tat};
        int64_t next = base + gcra.interval;
        if (!charge) return {Verdict::kAllowed, next};
        if (own->tat.compare_exchange_weak(tat, next, std::memory_order_acq_rel,
                                           std::memory_order_acquire))
          return {Verdict::kAllowed, next};
        // Another request moved the TAT (decide again with the new one), or the
        // cell is being or was taken over (the key's bucket was full: look again).
        if (tat == kClaiming || own->key.load(std::memory_order_acquire) != key) break;
      }
      continue;
    }

    if (spare == nullptr) return {Verdict::kFull, first_free};
    // An absent key has a full bucket: the request passes (burst >= 1).
    const int64_t next = now + gcra.interval;
    if (!charge) return {Verdict::kAllowed, next};
    if (!spare->tat.compare_exchange_strong(spare_tat, kClaiming, std::memory_order_acq_rel,
                                            std::memory_order_acquire))
      continue;  // someone else took it (perhaps for this very key): look again
    spare->key.store(key, std::memory_order_relaxed);
    spare->tat.store(next, std::memory_order_release);  // publishes the key with it
    return {Verdict::kAllowed, next};
  }
}

}  // namespace ringway::filters::rate_limit
