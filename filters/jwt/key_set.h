#pragma once
// Verification keys: one Key per configured or JWKS key, each bound to exactly
// one algorithm, collected in an immutable KeySet. The filter reaches the set
// through a KeyStore so that jwks_url (jwks_refresh.h) can publish a new set
// without a config reload (see KeyStore).

#include <openssl/evp.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "filters/jwt/algorithm.h"

namespace ringway::filters::jwt {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* p) const { EVP_MAC_CTX_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;

struct Key {
  std::string kid;  // "" when the key has none (then it must be the only key)
  Alg alg = Alg::kRS256;  // the one algorithm a token signed by this key may name
  // Asymmetric keys: the public key. Never a private key (loading refuses one).
  PkeyPtr pkey;
  // HMAC keys: a context keyed with the secret and the digest, duplicated for
  // each verification (cheaper than re-keying, and the secret bytes are not
  // kept anywhere else).
  MacCtxPtr hmac;
  // ECDSA: the curve order n, big-endian, alg_ecdsa_coordinate_size() bytes;
  // R and S of a signature must be in [1, n-1].
  std::string ecdsa_order;
  // Where it came from, for config messages ("keys.json key 2", "k1.pem").
  std::string origin;
};

// Immutable once built; shared by all workers.
class KeySet {
 public:
  explicit KeySet(std::vector<Key> keys) : keys_(std::move(keys)) {}

  const std::vector<Key>& keys() const { return keys_; }

  // The key a token selects: by kid when it has one; without a kid, the only
  // key if there is exactly one. nullptr otherwise.
  const Key* select(std::string_view kid, bool has_kid) const {
    if (!has_kid) return keys_.size() == 1 ? &keys_[0] : nullptr;
    for (const Key& k : keys_)
      if (!k.kid.empty() && k.kid == kid) return &k;
    return nullptr;
  }

 private:
  std::vector<Key> keys_;
};

using KeySetPtr = std::shared_ptr<const KeySet>;

// Holds the current KeySet. Workers keep their own reference and compare
// version() (one relaxed atomic load per request) to notice a replacement, so
// the hot path never touches the shared_ptr's reference count.
class KeyStore {
 public:
  explicit KeyStore(KeySetPtr initial) : current_(std::move(initial)) {}

  uint64_t version() const { return version_.load(std::memory_order_acquire); }

  // The current set and its version, read together.
  KeySetPtr current(uint64_t* version) const {
    std::lock_guard<std::mutex> lock(mutex_);
    *version = version_.load(std::memory_order_relaxed);
    return current_;
  }

  // Publishes a new set (jwks_url's fetches). Workers pick it up on their
  // next request and drop their verified-token caches.
  void replace(KeySetPtr next) {
    std::lock_guard<std::mutex> lock(mutex_);
    current_ = std::move(next);
    version_.fetch_add(1, std::memory_order_release);
  }

 private:
  mutable std::mutex mutex_;
  KeySetPtr current_;
  std::atomic<uint64_t> version_{1};
};

}  // namespace ringway::filters::jwt
