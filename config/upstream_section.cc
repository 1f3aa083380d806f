// upstreams: named groups of origin servers, with their balancing and
// per-worker connection pool settings.

#include <algorithm>
#include <optional>

#include "config/address.h"
#include "config/parse.h"
#include "config/route_syntax.h"
#include "config/text_util.h"

namespace ringway::config::detail {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;

constexpr milliseconds kMaxTimeout = hours(24);
constexpr int64_t kMaxWeight = 65535;

// Upstream names appear in routes, logs and metrics labels; keep them plain.
bool is_upstream_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

void parse_endpoints(const Field& field, Upstream& upstream) {
  std::vector<YAML::Mark> marks;
  for (const Field& item : list_elements(field, false, "a list of endpoints")) {
    Endpoint endpoint;
    const Field* address = &item;
    std::optional<MapReader> map;
    if (item.value.IsMap()) {
      map.emplace(item, "in " + item.path,
                  std::initializer_list<std::string_view>{"address", "weight"});
      address = &map->require("address");
      if (const Field* weight = map->find("weight"))
        endpoint.weight = static_cast<uint32_t>(get_int(*weight, 1, kMaxWeight));
    } else if (!item.value.IsScalar()) {
      item.fail_type("an address such as \"127.0.0.1:9001\" or a map with \"address\" and \"weight\"");
    }
    std::string error;
    if (!parse_endpoint_address(get_nonempty_string(*address), endpoint.address, error))
      address->fail(error);
    for (size_t i = 0; i < upstream.endpoints.size(); ++i)
      if (same_address(upstream.endpoints[i].address, endpoint.address))
        address->fail("duplicate endpoint " + quote(endpoint.address.text) + " (first at line " +
                      std::to_string(line_of(marks[i])) + "); give it a weight instead");
    upstream.endpoints.push_back(std::move(endpoint));
    marks.push_back(address->mark());
  }
}

void parse_balancer(const Field* field, Upstream& upstream) {
  bool weighted = false;
  for (const auto& e : upstream.endpoints) weighted = weighted || e.weight != 1;
  if (!field) {
    upstream.balancer = weighted ? Balancer::kWeightedRoundRobin : Balancer::kRoundRobin;
    return;
  }
  const std::vector<std::string> names{"round_robin", "weighted_round_robin"};
  std::string name = get_string(*field);
  if (name == names[0]) {
    // Silently ignoring weights someone wrote down would be worse than refusing.
    if (weighted)
      field->fail("round_robin ignores endpoint weights; use weighted_round_robin or remove the weights");
    upstream.balancer = Balancer::kRoundRobin;
  } else if (name == names[1]) {
    upstream.balancer = Balancer::kWeightedRoundRobin;
  } else {
    std::string hint = did_you_mean(name, names);
    field->fail("unknown balancer " + quote(name) +
                (hint.empty() ? " (expected \"round_robin\" or \"weighted_round_robin\")" : hint));
  }
}

Upstream parse_upstream(const Field& entry) {
  Upstream upstream;
  upstream.name = entry.key.Scalar();
  MapReader map(entry, "in upstream " + quote(upstream.name),
                {"endpoints", "balancer", "host", "max_idle_per_worker", "max_connections_per_worker",
                 "idle_timeout", "connect_timeout", "response_header_timeout", "connect_tries",
                 "max_fails", "fail_timeout"});
  parse_endpoints(map.require("endpoints"), upstream);
  parse_balancer(map.find("balancer"), upstream);
  if (const Field* f = map.find("host")) {
    upstream.host_header = get_string(*f);
    if (upstream.host_header.empty())
      f->fail("must not be empty (leave \"host\" out to pass the client's Host through)");
    // It goes verbatim into every request: held to the rule the gateway
    // holds clients' Host values to.
    if (const char* why = check_host(upstream.host_header))
      f->fail("invalid Host header value " + quote(upstream.host_header) + ": " + why);
  }
  if (const Field* f = map.find("max_connections_per_worker"))
    upstream.max_connections_per_worker = static_cast<uint32_t>(get_int(*f, 1, 1 << 20));
  if (const Field* f = map.find("max_idle_per_worker")) {
    upstream.max_idle_per_worker = static_cast<uint32_t>(get_int(*f, 0, 1 << 20));
    if (upstream.max_idle_per_worker > upstream.max_connections_per_worker)
      f->fail("must not exceed max_connections_per_worker (" +
              std::to_string(upstream.max_connections_per_worker) + "), got " +
              std::to_string(upstream.max_idle_per_worker));
  } else {
    // A small connection cap with the default idle count is not a mistake.
    upstream.max_idle_per_worker =
        std::min(upstream.max_idle_per_worker, upstream.max_connections_per_worker);
  }
  const milliseconds min_timeout(1);
  if (const Field* f = map.find("idle_timeout"))
    upstream.idle_timeout = get_duration(*f, min_timeout, kMaxTimeout);
  if (const Field* f = map.find("connect_timeout"))
    upstream.connect_timeout = get_duration(*f, min_timeout, kMaxTimeout);
  if (const Field* f = map.find("response_header_timeout"))
    upstream.response_header_timeout = get_duration(*f, min_timeout, kMaxTimeout);
  if (const Field* f = map.find("connect_tries"))
    upstream.connect_tries = static_cast<uint32_t>(get_int(*f, 1, 64));
  if (const Field* f = map.find("max_fails"))
    upstream.max_fails = static_cast<uint32_t>(get_int(*f, 0, 1000));
  if (const Field* f = map.find("fail_timeout"))
    upstream.fail_timeout = get_duration(*f, min_timeout, kMaxTimeout);
  return upstream;
}

}  // namespace

void parse_upstreams(const Field& field, std::vector<Upstream>& out) {
  if (field.value.IsNull()) field.fail("must not be empty");
  std::vector<Field> entries = map_entries(field, "upstream name");
  if (entries.empty()) field.fail("must not be empty");
  for (const Field& entry : entries) {
    if (!is_upstream_name(entry.key.Scalar()))
      fail_at(entry.key.Mark(), "upstreams: invalid upstream name " + quote(entry.key.Scalar()) +
                                    " (use letters, digits, \"_\", \"-\" and \".\")");
    out.push_back(parse_upstream(entry));
  }
}

}  // namespace ringway::config::detail
