#include "filters/cache/store.h"

#include <algorithm>

#include "filters/cache/vary.h"

namespace ringway::filters::cache {

EntryPtr Store::lookup(std::string_view key, const http::HeaderList& request_headers, std::string_view route) {
  auto slot = index_.find(absl::string_view(key.data(), key.size()));
  if (slot == index_.end()) return nullptr;
  // Variants differ only by their Vary values; usually there is one. The
  // secondary key is computed per variant since variants may list different
  // names (the origin changed its Vary).
  for (Lru::iterator it : slot->second) {
    const Entry& e = *it->entry;
    if (e.route != route || secondary_key(request_headers, e.vary) != e.secondary) continue;
    lru_.splice(lru_.begin(), lru_, it);
    it->used = ++tick_;
    return it->entry;
  }
  return nullptr;
}

bool Store::insert(EntryPtr entry) {
  if (entry->size > max_bytes_) return false;
  auto& variants = index_[entry->key];
  // Same variant (same Vary names and values): the new one replaces it.
  for (auto v = variants.begin(); v != variants.end(); ++v) {
    const Entry& old = *(*v)->entry;
    if (old.route == entry->route && old.vary == entry->vary && old.secondary == entry->secondary) {
      bytes_ -= old.size;
      lru_.erase(*v);
      variants.erase(v);
      break;
    }
  }
  if (variants.size() >= kMaxVariants) {
    // Drop the least recently used variant of this key.
    auto oldest = variants.begin();
    for (auto v = variants.begin(); v != variants.end(); ++v)
      if ((*v)->used < (*oldest)->used) oldest = v;
    bytes_ -= (*oldest)->entry->size;
    lru_.erase(*oldest);
    variants.erase(oldest);
    ++evictions_;
  }
  bytes_ += entry->size;
  lru_.push_front(Node{std::move(entry), ++tick_});
  // Newest first: when several variants match (the origin changed its
  // Vary), the most recent response is used (RFC 9111 4.1).
  variants.insert(variants.begin(), lru_.begin());
  evict_to_fit();
  return true;
}

void Store::unlink(Lru::iterator it) {
  auto slot = index_.find(it->entry->key);
  if (slot != index_.end()) {
    auto& variants = slot->second;
    variants.erase(std::find(variants.begin(), variants.end(), it));
    if (variants.empty()) index_.erase(slot);
  }
  bytes_ -= it->entry->size;
  lru_.erase(it);
}

void Store::evict_to_fit() {
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    unlink(std::prev(lru_.end()));
    ++evictions_;
  }
}

void Store::remove(const EntryPtr& entry) {
  auto slot = index_.find(entry->key);
  if (slot == index_.end()) return;
  for (Lru::iterator it : slot->second) {
    if (it->entry == entry) {
      unlink(it);
      return;
    }
  }
}

size_t Store::erase_key(std::string_view key) {
  auto slot = index_.find(absl::string_view(key.data(), key.size()));
  if (slot == index_.end()) return 0;
  size_t n = slot->second.size();
  for (Lru::iterator it : slot->second) {
    bytes_ -= it->entry->size;
    lru_.erase(it);
  }
  index_.erase(slot);
  return n;
}

size_t Store::erase_if(const std::function<bool(std::string_view key)>& match) {
  size_t n = 0;
  for (auto slot = index_.begin(); slot != index_.end();) {
    if (!match(slot->first)) {
      ++slot;
      continue;
    }
    for (Lru::iterator it : slot->second) {
      bytes_ -= it->entry->size;
      lru_.erase(it);
      ++n;
    }
    index_.erase(slot++);
  }
  return n;
}

size_t Store::adopt_older(Store& older, size_t count, uint64_t max_entry_bytes) {
  if (adopt_tick_ == 0) {
    // Adopted entries get the ticks below every current one, the most
    // recently used of them the highest: per-key variant eviction picks by
    // tick. Entries stored meanwhile get higher ones anyway.
    const uint64_t room = older.entries();
    for (Node& node : lru_) node.used += room;
    tick_ += room;
    adopt_tick_ = room;
  }
  size_t kept = 0;
  for (; count > 0 && !older.lru_.empty(); --count) {
    EntryPtr entry = older.lru_.front().entry;
    older.unlink(older.lru_.begin());
    uint64_t tick = adopt_tick_ > 1 ? adopt_tick_-- : 1;
    if (entry->size > max_entry_bytes || bytes_ + entry->size > max_bytes_) continue;
    auto& variants = index_[entry->key];
    bool have = variants.size() >= kMaxVariants ||
                std::any_of(variants.begin(), variants.end(), [&](Lru::iterator v) {
                  return v->entry->vary == entry->vary && v->entry->secondary == entry->secondary;
                });
    if (have) continue;
    bytes_ += entry->size;
    lru_.push_back(Node{std::move(entry), tick});
    variants.push_back(std::prev(lru_.end()));
    ++kept;
  }
  if (older.lru_.empty()) adopt_tick_ = 0;
  return kept;
}

void Store::clear() {
  lru_.clear();
  index_.clear();
  bytes_ = 0;
}

}  // namespace ringway::filters::cache
