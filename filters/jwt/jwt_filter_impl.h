#pragma once
// The jwt filter class, for compile_jwt() and for tests and benchmarks that
// build one from settings directly or need its KeyStore.

#include <array>
#include <memory>
#include <string>

#include "engine/filter/filter.h"
#include "filters/jwt/failure.h"
#include "filters/jwt/jwks_refresh.h"
#include "filters/jwt/jwt_config.h"
#include "filters/jwt/jwt_worker.h"
#include "filters/jwt/key_set.h"

namespace ringway::filters::jwt {

class JwtFilter final : public filter::Filter {
 public:
  // `running`: on a reload, the filter of the same name in the configuration
  // being replaced, or null. With the same jwks_url, its last good fetched
  // set is where this one starts (no window of unknown keys, and the IdP
  // need not be up for a reload).
  explicit JwtFilter(JwtSettings settings, const filter::Filter* running = nullptr);

  uint8_t phases() const override { return filter::kRequestHead; }
  std::unique_ptr<filter::WorkerState> make_worker_state(uint32_t worker_index) const override;
  filter::Outcome on_request_head(filter::Context& ctx) const override;

  // Where the keys live; replace() on it publishes a new set to all workers.
  KeyStore& key_store() const { return *store_; }
  const JwtSettings& settings() const { return settings_; }

 private:
  filter::Outcome refuse(filter::Context& ctx, JwtWorkerState& w, Failure f) const;
  // jwks_url and an unknown kid: true when the request was suspended to wait
  // for a fetch of the key set (once per request).
  bool wait_for_keys(filter::Context& ctx, JwtWorkerState& w) const;
  void grant(filter::Context& ctx, const Grant& g) const;
  void hide_token(filter::Context& ctx, std::string_view token) const;
  void hide_cookie(filter::Context& ctx, std::string_view name) const;

  JwtSettings settings_;
  // The filter is const once built; the store is the one thing that may
  // change under it (jwks_url), and guards itself.
  std::unique_ptr<KeyStore> store_;
  // jwks_url's fetching and publishing (thread-safe); nullptr without it.
  std::unique_ptr<JwksRefresher> jwks_;
  // Answers, built once: WWW-Authenticate values and bodies by Failure.
  std::array<std::string, kFailureCount> challenge_;
  std::array<std::string, kFailureCount> body_;
};

}  // namespace ringway::filters::jwt
