#include "filters/cache/cache_options.h"

#include <sched.h>

#include <algorithm>
#include <string_view>

#include "config/text_util.h"
#include "config/yaml_reader.h"
#include "filters/header_rules.h"

namespace ringway::filters::cache {
namespace {

using config::detail::Field;

// Same rule as the engine (engine/core/server.cc): the configured count, or
// one worker per CPU this process may run on.
uint32_t resolve_workers(const config::Config& config) {
  if (config.engine.workers != 0) return config.engine.workers;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  int n = CPU_COUNT(&set);
  return n > 0 ? static_cast<uint32_t>(n) : 1;
}

// x_cache_header: true/on (default name), false/off (no header), or a name.
std::string read_status_header(const Field& field) {
  if (!field.value.IsScalar()) field.fail_type("on, off or a header name");
  const std::string& s = field.value.Scalar();
  if (s == "true" || s == "on") return "X-Cache";
  if (s == "false" || s == "off") return "";
  if (!config::detail::is_http_token(s)) field.fail("invalid header name " + config::detail::quote(s));
  // It replaces any field of its name on every answer: one that means
  // something to HTTP would be lost, or lie (Cache-Control: HIT, Age: MISS).
  const std::string lower = config::detail::to_lower(s);
  static constexpr std::string_view kMeaningful[] = {
      "age",  "allow",         "authorization", "cache-control", "date",   "etag",
      "expires", "last-modified", "location",   "pragma",        "retry-after", "server",
      "set-cookie", "vary",    "via",           "warning",       "www-authenticate"};
  if (is_gateway_managed_header(lower) || lower.starts_with("content-") ||
      std::find(std::begin(kMeaningful), std::end(kMeaningful), lower) != std::end(kMeaningful))
    field.fail(config::detail::quote(s) + " is a field HTTP gives a meaning; pick another name (X-Cache)");
  return s;
}

}  // namespace

CacheOptions read_cache_options(const FilterBuild& build) {
  config::detail::MapReader map(build.field, "in filter " + config::detail::quote(build.spec.name),
                                {"type", "max_bytes", "max_entry_bytes", "heuristic_max_age",
                                 "x_cache_header", "cache_authorized", "ignore_query", "collapse",
                                 "collapse_timeout"});
  CacheOptions o;
  using namespace std::chrono_literals;
  if (const Field* f = map.find("max_bytes")) o.max_bytes = config::detail::get_size(*f, 1024, 1ull << 40);
  if (const Field* f = map.find("max_entry_bytes")) {
    o.max_entry_bytes = config::detail::get_size(*f, 1, 1ull << 30);
    if (o.max_entry_bytes > o.max_bytes) f->fail("must not be larger than max_bytes");
  } else if (o.max_entry_bytes > o.max_bytes) {
    o.max_entry_bytes = o.max_bytes;
  }
  if (const Field* f = map.find("heuristic_max_age"))
    o.heuristic.max_seconds = config::detail::get_duration(*f, 0ms, 8760h).count() / 1000;
  if (const Field* f = map.find("x_cache_header")) o.status_header = read_status_header(*f);
  if (const Field* f = map.find("cache_authorized")) o.cache_authorized = config::detail::get_bool(*f);
  if (const Field* f = map.find("ignore_query")) o.ignore_query = config::detail::get_bool(*f);
  if (const Field* f = map.find("collapse")) o.collapse = config::detail::get_bool(*f);
  if (const Field* f = map.find("collapse_timeout"))
    o.collapse_timeout_ms = config::detail::get_duration(*f, 1ms, 1h).count();
  o.workers = resolve_workers(build.config);
  return o;
}

}  // namespace ringway::filters::cache
