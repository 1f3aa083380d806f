#pragma once
// Builds a rate_limit filter from YAML text and drives its phases directly,
// with a simulated clock (ctx.now_ms); no engine, no sockets, no wall clock.

#include <yaml-cpp/yaml.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/yaml_reader.h"
#include "engine/filter/filter.h"
#include "filters/rate_limit/counters.h"
#include "filters/rate_limit/rate_limit_filter.h"

namespace ringway::filters::rate_limit::testing {

inline std::shared_ptr<const filter::Filter> build(const std::string& yaml) {
  YAML::Node node = YAML::Load(yaml);
  config::FilterSpec spec{"rl", "rate_limit", std::make_shared<const YAML::Node>(node),
                          "filters.rl"};
  config::detail::Field field{YAML::Node(), node, spec.path};
  config::Config cfg;
  cfg.source_file = "rl.yaml";
  return compile_rate_limit(FilterBuild{spec, field, cfg});
}

// "rl.yaml:LINE:COL: message" of a config that must fail, or "" if it loads.
inline std::string build_error(const std::string& yaml) {
  try {
    build(yaml);
  } catch (const config::detail::ConfigError& e) {
    return config::detail::format_error("rl.yaml", e.mark, e.message);
  }
  return "";
}

// One request as the test describes it.
struct Request {
  int64_t now_ms = 0;
  std::string client_ip = "10.0.0.1";
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::pair<std::string, std::string>> attributes;
  const config::Route* route = nullptr;
};

// What the filter did with it: outcome, status and the headers it added
// (to its local response, or to a 200 response passing back through it).
struct Reply {
  filter::Outcome outcome = filter::Outcome::kProceed;
  int status = 0;
  std::map<std::string, std::string> headers;
  bool passed() const { return outcome == filter::Outcome::kProceed; }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "(none)" : it->second;
  }
};

// A worker's view of the filter: its own WorkerState, as an engine worker has.
class Worker {
 public:
  explicit Worker(const filter::Filter& f) : filter_(f), state_(f.make_worker_state(0)) {}

  Reply send(const Request& req) {
    http::RequestHead head;
    head.method = "GET";
    head.target = "/";
    head.path = "/";
    for (const auto& [n, v] : req.headers) head.headers.push_back({n, v});
    filter::Context ctx;
    ctx.request = &head;
    ctx.client_ip = req.client_ip;
    ctx.route = req.route;
    ctx.now_ms = req.now_ms;
    filter::WorkerState* states[1] = {state_.get()};
    ctx.begin(1, states, nullptr, nullptr, 0);
    ctx.enter(0);
    for (const auto& [k, v] : req.attributes) ctx.set_attribute(k, v);
    Reply reply;
    reply.outcome = filter_.on_request_head(ctx);
    if (reply.outcome == filter::Outcome::kRespond) {
      reply.status = ctx.local().status;
      for (const auto& h : ctx.local().headers)
        reply.headers[std::string(h.name)] = std::string(h.value);
    } else {
      ctx.response.status = reply.status = 200;
      if (filter_.phases() & filter::kResponseHead) filter_.on_response_head(ctx);
      for (const auto& h : ctx.response.headers)
        reply.headers[std::string(h.name)] = std::string(h.value);
    }
    return reply;
  }

  Reply at(int64_t now_ms, const std::string& ip = "10.0.0.1") {
    Request r;
    r.now_ms = now_ms;
    r.client_ip = ip;
    return send(r);
  }

  const RateLimitCounters& counters() const {
    return static_cast<const RateLimitCounters&>(*state_);
  }

 private:
  const filter::Filter& filter_;
  std::unique_ptr<filter::WorkerState> state_;
};

}  // namespace ringway::filters::rate_limit::testing
