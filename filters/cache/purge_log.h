#pragma once
// Purges that must reach every worker's store. Publishing is rare (an admin
// purge, or an unsafe request invalidating a URI): it takes a mutex. The
// request path pays one relaxed atomic load of `published()` and compares it
// with the sequence number its worker has applied; only when they differ
// does it take the mutex to copy the new records.
//
// The log keeps the last kCapacity records. A worker that fell further
// behind than that (it was idle while many purges happened) cannot know what
// it missed, so it is told to clear its whole store.

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace ringway::filters::cache {

struct PurgeRecord {
  std::string host;  // lower-cased; "" is the key host of requests without Host
  std::string path;  // path with "?query", or a prefix of it
  bool prefix = false;
  bool every_host = false;  // an operator's purge without a host; never an invalidation
  uint64_t origin = 0;  // the store (PurgeLog::new_store_id) that applied it already, 0 for none

  bool matches(std::string_view key) const;
};

class PurgeLog {
 public:
  static constexpr size_t kCapacity = 4096;

  // Appends a record; returns its sequence number (1, 2, ...).
  uint64_t publish(PurgeRecord record);

  // A number naming one worker's store in PurgeRecord::origin (1, 2, ...).
  uint64_t new_store_id() { return ++store_ids_; }

  // Sequence number of the last record published (0: none yet).
  uint64_t published() const { return published_.load(std::memory_order_relaxed); }

  // Copies the records after `applied` into `out`. Returns false when some
  // of them were already dropped (the caller must clear everything). Either
  // way `applied` becomes the newest sequence number.
  bool since(uint64_t& applied, std::vector<PurgeRecord>& out) const;

 private:
  mutable std::mutex mutex_;
  std::deque<PurgeRecord> records_;  // sequence numbers first_ .. first_ + size - 1
  uint64_t first_ = 1;
  std::atomic<uint64_t> published_{0};
  std::atomic<uint64_t> store_ids_{0};
};

}  // namespace ringway::filters::cache
