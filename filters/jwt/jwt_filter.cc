#include "filters/jwt/jwt_filter.h"

#include "filters/jwt/jwt_filter_impl.h"
#include "filters/jwt/token_source.h"

namespace ringway::filters {

std::shared_ptr<const filter::Filter> compile_jwt(const FilterBuild& build) {
  return std::make_shared<const jwt::JwtFilter>(jwt::read_jwt_settings(build), build.running);
}

namespace jwt {

JwtFilter::JwtFilter(JwtSettings settings, const filter::Filter* running)
    : settings_(std::move(settings)),
      store_(std::make_unique<KeyStore>(
          settings_.keys ? settings_.keys : std::make_shared<const KeySet>(std::vector<Key>{}))) {
  if (settings_.jwks) {
    jwks_ = std::make_unique<JwksRefresher>(*settings_.jwks, settings_.keys, *store_);
    auto* before = dynamic_cast<const JwtFilter*>(running);
    if (before != nullptr && before->jwks_ != nullptr &&
        before->jwks_->settings().url == settings_.jwks->url)
      jwks_->seed(before->jwks_->applied_body());
  }
  // RFC 6750 3: realm always; error and error_description once there was a
  // token to judge; scope with insufficient_scope (3.1).
  std::string scopes;
  for (const auto& s : settings_.policy.scopes) scopes += (scopes.empty() ? "" : " ") + s;
  for (size_t i = 0; i < kFailureCount; ++i) {
    const Failure f = static_cast<Failure>(i);
    std::string value = "Bearer realm=\"" + settings_.realm + "\"";
    const std::string_view code = failure_error_code(f);
    if (!code.empty()) {
      value += ", error=\"" + std::string(code) + "\", error_description=\"" +
               std::string(failure_description(f)) + "\"";
      if (f == Failure::kInsufficientScope) value += ", scope=\"" + scopes + "\"";
    }
    challenge_[i] = std::move(value);
    const int status = failure_status(f);
    const char* what = status == 403 ? "forbidden" : status == 400 ? "bad request" : "unauthorized";
    body_[i] = std::string(what) + ": " + std::string(failure_description(f)) + "\n";
  }
}

std::unique_ptr<filter::WorkerState> JwtFilter::make_worker_state(uint32_t worker_index) const {
  return std::make_unique<JwtWorkerState>(settings_.max_token_bytes, settings_.cache_entries,
                                          settings_.cache_ttl_ms, jwks_.get(), worker_index);
}

filter::Outcome JwtFilter::on_request_head(filter::Context& ctx) const {
  auto& w = ctx.worker<JwtWorkerState>();
  std::string_view token;
  switch (find_token(settings_.sources, *ctx.request, &token)) {
    case Lookup::kAbsent:
      return refuse(ctx, w, Failure::kMissingToken);
    case Lookup::kAmbiguous:
      return refuse(ctx, w, Failure::kAmbiguousToken);
    case Lookup::kEmpty:
      // A malformed request, not a bad token (RFC 6750 3.1).
      return refuse(ctx, w, Failure::kEmptyToken);
    case Lookup::kFound:
      break;
  }
  // Checked before any decoding: the work a token can cause is bounded by this.
  if (token.size() > settings_.max_token_bytes) return refuse(ctx, w, Failure::kTooLarge);

  const KeySet& keys = w.current_keys(*store_);
  const bool caching = settings_.cache_entries > 0;
  uint64_t hash = 0;
  if (caching) {
    hash = TokenCache::hash(token);
    if (const Grant* cached = w.cache.find(token, hash, ctx.unix_ms)) {
      ++w.counters.cache_hits;
      ++w.counters.accepted;
      grant(ctx, *cached);
      if (!settings_.forward_token) hide_token(ctx, token);
      return filter::Outcome::kProceed;
    }
  }

  ++w.counters.verified;
  std::string_view payload;
  const Key* key = nullptr;
  Failure f = verify_jws(token, keys, w.scratch, &payload, &key);
  if (f == Failure::kUnknownKey && jwks_ != nullptr && wait_for_keys(ctx, w)) {
    --w.counters.verified;  // no verdict yet: checked again when resumed
    return filter::Outcome::kSuspend;
  }
  if (f == Failure::kNone) f = check_claims(payload, settings_.policy, ctx.unix_ms, w.scratch, &w.grant);
  if (f != Failure::kNone) return refuse(ctx, w, f);

  // Before grant(): `token` points into the request's headers, which grant() edits.
  if (caching) w.cache.insert(token, hash, w.grant, ctx.unix_ms);
  ++w.counters.accepted;
  grant(ctx, w.grant);
  if (!settings_.forward_token) hide_token(ctx, token);
  return filter::Outcome::kProceed;
}

bool JwtFilter::wait_for_keys(filter::Context& ctx, JwtWorkerState& w) const {
  if (const auto* mark = ctx.state_if_any<JwksWaited>(); mark != nullptr && mark->waited)
    return false;  // waited once already: the kid is unknown to the fetched set too
  if (!jwks_->should_wait(w, ctx.now_ms, ctx.services)) return false;
  ctx.state<JwksWaited>().waited = true;
  w.jwks.waiters.push_back(ctx.suspend());
  return true;
}

// From every source that holds it: the same token may come in several (a
// browser's cookie and header), and find_token names only the first. A
// source holding something else (Authorization: Basic for the upstream
// while the token came in a cookie) is left alone.
void JwtFilter::hide_token(filter::Context& ctx, std::string_view token) const {
  for (const TokenSource& source : settings_.sources) {
    if (!holds_token(source, *ctx.request, token)) continue;
    if (source.kind == TokenSource::Kind::kHeader) ctx.remove_request_header(source.name);
    else if (source.kind == TokenSource::Kind::kCookie) hide_cookie(ctx, source.name);
    // A query source cannot be hidden: refused at load with forward_token: false.
  }
}

void JwtFilter::hide_cookie(filter::Context& ctx, std::string_view name) const {
  auto& headers = ctx.request->headers;
  for (size_t i = 0; i < headers.size();) {
    if (!http::iequals(headers[i].name, "Cookie") || headers[i].value.find(name) == std::string_view::npos) {
      ++i;
      continue;
    }
    const std::string rest = cookie_header_without(headers[i].value, name);
    if (rest.empty()) {
      headers.erase(headers.begin() + static_cast<ptrdiff_t>(i));
    } else {
      headers[i].value = ctx.keep(rest);
      ++i;
    }
  }
}

void JwtFilter::grant(filter::Context& ctx, const Grant& g) const {
  ctx.authenticated = true;
  // Every configured header is removed first, whether or not this token has
  // the claim: a client must never be able to send its own X-User-Id.
  for (const std::string& name : settings_.forward_headers) ctx.remove_request_header(name);
  for (const auto& [index, value] : g.headers)
    ctx.set_request_header(settings_.forward_headers[index], value);
  for (const auto& [name, value] : g.attributes) ctx.set_attribute(name, value);
}

filter::Outcome JwtFilter::refuse(filter::Context& ctx, JwtWorkerState& w, Failure f) const {
  const size_t i = static_cast<size_t>(f);
  ++w.counters.failures[i];
  filter::LocalResponse& r = ctx.local();
  r.status = failure_status(f);
  r.headers.clear();
  // Views of strings the filter owns; it outlives the requests it handles.
  r.headers.push_back({"WWW-Authenticate", challenge_[i]});
  r.headers.push_back({"Content-Type", "text/plain; charset=utf-8"});
  r.body = body_[i];
  return filter::Outcome::kRespond;
}

}  // namespace jwt
}  // namespace ringway::filters
