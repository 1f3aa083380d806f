#pragma once
// One worker's stored responses: an LRU list bounded by total bytes (headers,
// body and a fixed per-entry overhead), indexed by primary key, each key
// holding the variants its Vary values produced. Single-threaded (worker
// state). Entries are shared_ptrs: removal only drops the store's reference.

#include <cstdint>
#include <functional>
#include <list>
#include <string>
#include <string_view>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "engine/http/request_head.h"
#include "filters/cache/entry.h"

namespace ringway::filters::cache {

class Store {
 public:
  // Variants kept per primary key; the least recently used goes first.
  static constexpr size_t kMaxVariants = 16;

  explicit Store(uint64_t max_bytes) : max_bytes_(max_bytes) {}

  // The variant of `key` whose Vary values match the request, the most
  // recently stored when several do (RFC 9111 4.1); marks it used. nullptr
  // when none matches.
  EntryPtr lookup(std::string_view key, const http::HeaderList& request_headers, std::string_view route = {});

  // Adds an entry, replacing a variant with the same secondary key, then
  // evicts least recently used entries until the store fits. An entry larger
  // than the whole store is not kept. Returns whether it was kept.
  bool insert(EntryPtr entry);

  // Removes `entry` itself if it is still stored (revalidation bookkeeping).
  void remove(const EntryPtr& entry);

  // Removes every variant of `key`; returns how many.
  size_t erase_key(std::string_view key);
  // Removes every entry for which `match(key)` holds; returns how many.
  size_t erase_if(const std::function<bool(std::string_view key)>& match);
  void clear();

  // Reload: moves up to `count` entries out of `older` (a store the previous
  // generation's worker left), most recently used first, and keeps those
  // that fit behind (less recently used than) everything stored here. A
  // variant this store already has stays as it is: it is the newer copy.
  // Entries larger than `max_entry_bytes` are dropped. Called repeatedly
  // until `older` is empty, so a big store moves over in slices. Returns
  // how many it kept.
  size_t adopt_older(Store& older, size_t count, uint64_t max_entry_bytes);

  uint64_t bytes() const { return bytes_; }
  size_t entries() const { return lru_.size(); }
  uint64_t max_bytes() const { return max_bytes_; }
  uint64_t evictions() const { return evictions_; }

 private:
  struct Node {
    EntryPtr entry;
    uint64_t used;  // tick of the last lookup or insert
  };
  using Lru = std::list<Node>;  // front: most recently used
  void unlink(Lru::iterator it);    // from lru_ and index_
  void evict_to_fit();

  uint64_t max_bytes_;
  uint64_t bytes_ = 0;
  uint64_t evictions_ = 0;
  uint64_t tick_ = 0;
  uint64_t adopt_tick_ = 0;  // next tick for an adopted entry; 0: no adoption going on
  Lru lru_;
  absl::flat_hash_map<std::string, std::vector<Lru::iterator>> index_;
};

}  // namespace ringway::filters::cache
