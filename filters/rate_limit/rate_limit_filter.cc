#include "filters/rate_limit/rate_limit_filter.h"

#include <absl/container/inlined_vector.h>
#include <time.h>

#include <charconv>
#include <cstdint>

#include "engine/http/field_value.h"
#include "filters/rate_limit/counters.h"
#include "filters/rate_limit/gcra_table.h"
#include "filters/rate_limit/rate_headers.h"
#include "filters/rate_limit/rate_limit_config.h"

namespace ringway::filters {
namespace {

using rate_limit::GcraTable;
using rate_limit::LimitStatus;
using rate_limit::RateLimitCounters;
using Verdict = GcraTable::Verdict;

// Set on a request once a rate_limit filter has written a group of headers
// into the response (or its refusal): a second filter on the route then
// merges into that group instead of replacing it (what an upstream sent is
// replaced, as with one filter).
constexpr std::string_view kPolicyWritten = "rate_limit.policy_written";  // RateLimit-Policy, RateLimit
constexpr std::string_view kXWritten = "rate_limit.x_written";            // X-RateLimit-*

// A count as another filter wrote it; anything unreadable counts as no limit.
int64_t parse_count(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() ? v : INT64_MAX;
}

// Per-limit values of one request; a filter has at most 8 limits, most have one.
template <typename T>
using PerLimit = absl::InlinedVector<T, 4>;

// What the request-head phase found, for the response-head phase's headers.
struct Decision final : filter::RequestState {
  PerLimit<LimitStatus> limits;  // empty: nothing to report (skipped)
};

class RateLimitFilter final : public filter::Filter {
 public:
  // `running`: the filter of the same name in the configuration a reload
  // replaces, or null.
  RateLimitFilter(rate_limit::RateLimitConfig config, const filter::Filter* running)
      : config_(std::move(config)), policy_(rate_limit::policy_field(config_.limits)) {
    // The shared state lives in the Filter, the one object every worker
    // holds: workers see the same cells. A reload that keeps what the cells
    // mean (same key, rates, bursts and table size) keeps the cells too, as
    // nginx keeps a limit_req zone: budgets are not refilled by a reload.
    // Both generations then update the same cells, as workers always do.
    auto* before = dynamic_cast<const RateLimitFilter*>(running);
    if (before != nullptr && before->same_state_as(config_)) tables_ = before->tables_;
    for (const auto& l : config_.limits) {
      gcra_.push_back(rate_limit::Gcra::make(l.rate, l.burst));
      if (tables_.size() < gcra_.size())
        tables_.push_back(std::make_shared<GcraTable>(static_cast<size_t>(config_.max_keys)));
    }
  }

  uint8_t phases() const override {
    bool any_headers = config_.headers || config_.x_ratelimit_headers;
    return filter::kRequestHead | (any_headers ? filter::kResponseHead : 0);
  }

  std::unique_ptr<filter::WorkerState> make_worker_state(uint32_t) const override {
    return std::make_unique<RateLimitCounters>();
  }

  filter::Outcome on_request_head(filter::Context& ctx) const override {
    auto& counters = ctx.worker<RateLimitCounters>();
    auto key = rate_limit::key_hash(ctx, config_.key, config_.missing_key);
    if (!key) {
      ++counters.skipped;
      return filter::Outcome::kProceed;
    }
    const size_t n = config_.limits.size();
    const int64_t now = now_ns(ctx);
    PerLimit<LimitStatus> status(n);

    // Several limits: look at all of them first and charge none unless all
    // would pass, so a request refused by one limit does not use up the others.
    // (Two workers can still race between the look and the charge; then a limit
    // may be charged for a refused request: stricter, never looser.)
    if (n > 1) {
      int64_t wait = 0;
      bool refused = false, full = false;
      for (size_t i = 0; i < n; ++i) {
        GcraTable::Result r = tables_[i]->peek(*key, now, gcra_[i]);
        status[i] = describe(i, r, now, false);
        if (r.verdict == Verdict::kLimited) {
          refused = true;
          wait = std::max(wait, gcra_[i].until_allowed(r.tat, now));
        } else if (r.verdict == Verdict::kFull &&
                   config_.when_full == rate_limit::WhenFull::kDeny) {
          refused = full = true;
          status[i] = no_room(r, now);
          wait = std::max(wait, r.tat - now);
        }
      }
      if (refused) {
        if (full) ++counters.table_full;
        return refuse(ctx, counters, status, wait);
      }
    }

    bool full = false;
    for (size_t i = 0; i < n; ++i) {
      GcraTable::Result r = tables_[i]->acquire(*key, now, gcra_[i]);
      status[i] = describe(i, r, now, true);
      int64_t wait = -1;
      if (r.verdict == Verdict::kLimited) {
        wait = gcra_[i].until_allowed(r.tat, now);
      } else if (r.verdict == Verdict::kFull) {
        full = true;
        if (config_.when_full == rate_limit::WhenFull::kDeny) {
          status[i] = no_room(r, now);
          wait = r.tat - now;
        }
      }
      if (wait >= 0) {
        if (full) ++counters.table_full;
        for (size_t j = i + 1; j < n; ++j)
          status[j] = describe(j, tables_[j]->peek(*key, now, gcra_[j]), now, false);
        return refuse(ctx, counters, status, wait);
      }
    }
    if (full) ++counters.table_full;
    ++counters.allowed;
    ctx.state<Decision>().limits = std::move(status);
    return filter::Outcome::kProceed;
  }

  // The first rate_limit filter to write replaces what the upstream sent;
  // another one on the route (or its 429) was there first if the marker is
  // set: then the policy lists gain this filter's items, and X-RateLimit-*
  // keep describing the tightest limit of all.
  filter::Outcome on_response_head(filter::Context& ctx) const override {
    Decision* d = ctx.state_if_any<Decision>();
    if (d == nullptr || d->limits.empty()) return filter::Outcome::kProceed;
    const bool merge_policy = ctx.has_attribute(kPolicyWritten);
    const bool merge_x = ctx.has_attribute(kXWritten);
    const http::Header* present =
        merge_x ? http::find_header(ctx.response.headers, "X-RateLimit-Remaining") : nullptr;
    const bool tighter = present == nullptr ||
                         d->limits[rate_limit::tightest(d->limits)].remaining < parse_count(present->value);
    add_headers(d->limits, [&](std::string_view name, std::string_view value) {
      const bool x = name.starts_with("X-");
      if (!(x ? merge_x : merge_policy)) {
        ctx.set_response_header(name, value);
      } else if (!x) {  // structured-field lists: this filter's items join the others'
        const http::Header* h = http::find_header(ctx.response.headers, name);
        ctx.set_response_header(name, h != nullptr ? std::string(h->value) + ", " + std::string(value)
                                                   : std::string(value));
      } else if (tighter) {
        ctx.set_response_header(name, value);
      }
    });
    mark_written(ctx);
    return filter::Outcome::kProceed;
  }

 private:
  int64_t now_ns(const filter::Context& ctx) const {
    if (config_.clock == rate_limit::Clock::kLoop) return ctx.now_ms * rate_limit::kNsPerMs;
    // Every worker reads the same system-wide clock, so their TATs compare.
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * rate_limit::kNsPerSecond + ts.tv_nsec;
  }

  // A limit's state as this request leaves it: `charged` when the table
  // counted the request, else as it was before (a look, or a refusal). A key
  // the table had no room for (when_full: allow) is reported as a fresh
  // bucket, which is how it was treated.
  LimitStatus describe(size_t i, const GcraTable::Result& r, int64_t now, bool charged) const {
    const rate_limit::Gcra& g = gcra_[i];
    int64_t tat = now;
    switch (r.verdict) {
      case Verdict::kAllowed:
        tat = charged ? r.tat : r.tat - g.interval;
        break;
      case Verdict::kLimited:
        tat = r.tat;
        break;
      case Verdict::kFull:
        tat = charged ? now + g.interval : now;
        break;
    }
    return {g.remaining(tat, now), rate_limit::ceil_seconds(g.until_full(tat, now))};
  }

  // A key the table had no room for (when_full: deny): nothing left until
  // a cell of its window frees up.
  static LimitStatus no_room(const GcraTable::Result& r, int64_t now) {
    return {0, std::max<int64_t>(1, rate_limit::ceil_seconds(r.tat - now))};
  }

  filter::Outcome refuse(filter::Context& ctx, RateLimitCounters& counters,
                         absl::Span<const LimitStatus> status, int64_t wait) const {
    ++counters.limited;
    filter::LocalResponse& r = ctx.local();
    r.status = config_.status;
    r.body = "Too Many Requests\n";
    r.headers.push_back({"Content-Type", "text/plain"});
    // Seconds rounded up (at least 1): a client that waits this long passes.
    int64_t retry = std::max<int64_t>(1, rate_limit::ceil_seconds(wait));
    r.headers.push_back({"Retry-After", ctx.keep(std::to_string(retry))});
    add_headers(status, [&](std::string_view name, std::string_view value) {
      r.headers.push_back({name, ctx.keep(value)});
    });
    mark_written(ctx);
    return filter::Outcome::kRespond;
  }

  void mark_written(filter::Context& ctx) const {
    if (config_.headers) ctx.set_attribute(kPolicyWritten, "1");
    if (config_.x_ratelimit_headers) ctx.set_attribute(kXWritten, "1");
  }

  template <typename Add>
  void add_headers(absl::Span<const LimitStatus> status, Add add) const {
    if (config_.headers) {
      add("RateLimit-Policy", policy_);
      add("RateLimit", rate_limit::ratelimit_field(config_.limits, status));
    }
    if (config_.x_ratelimit_headers) {
      size_t t = rate_limit::tightest(status);
      add("X-RateLimit-Limit", std::to_string(rate_limit::quota(config_.limits[t]).units));
      add("X-RateLimit-Remaining", std::to_string(status[t].remaining));
      add("X-RateLimit-Reset", std::to_string(status[t].reset_s));
    }
  }

  // Whether cells made under this filter's config mean the same under `next`.
  bool same_state_as(const rate_limit::RateLimitConfig& next) const {
    if (next.key != config_.key || next.max_keys != config_.max_keys ||
        next.limits.size() != config_.limits.size())
      return false;
    for (size_t i = 0; i < next.limits.size(); ++i)
      if (next.limits[i].rate != config_.limits[i].rate ||
          next.limits[i].burst != config_.limits[i].burst)
        return false;
    return true;
  }

  rate_limit::RateLimitConfig config_;
  std::string policy_;  // the RateLimit-Policy value, the same on every response
  std::vector<rate_limit::Gcra> gcra_;
  std::vector<std::shared_ptr<GcraTable>> tables_;
};

}  // namespace

std::shared_ptr<const filter::Filter> compile_rate_limit(const FilterBuild& build) {
  return std::make_shared<RateLimitFilter>(rate_limit::read_rate_limit_config(build), build.running);
}

}  // namespace ringway::filters
