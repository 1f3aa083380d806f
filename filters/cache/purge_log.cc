#include "filters/cache/purge_log.h"

#include "filters/cache/key.h"
#include "engine/http/request_head.h"

namespace ringway::filters::cache {

bool PurgeRecord::matches(std::string_view key) const {
  if (!every_host && key_host(key) != host) return false;
  std::string_view path_query = key_path(key);
  return prefix ? path_query.starts_with(path) : path_query == path;
}

uint64_t PurgeLog::publish(PurgeRecord record) {
  std::lock_guard<std::mutex> lock(mutex_);
  records_.push_back(std::move(record));
  if (records_.size() > kCapacity) {
    records_.pop_front();
    ++first_;
  }
  uint64_t seq = first_ + records_.size() - 1;
  // Release: a worker that sees the new number and then locks the mutex sees
  // the record anyway; the ordering only keeps the number honest.
  published_.store(seq, std::memory_order_release);
  return seq;
}

bool PurgeLog::since(uint64_t& applied, std::vector<PurgeRecord>& out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  uint64_t last = first_ + records_.size() - 1;
  bool complete = applied + 1 >= first_;
  uint64_t from = complete ? applied + 1 : first_;
  for (uint64_t seq = from; seq <= last && seq >= first_; ++seq) out.push_back(records_[seq - first_]);
  applied = records_.empty() ? applied : last;
  return complete;
}

}  // namespace ringway::filters::cache
