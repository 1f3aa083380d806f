#include "filters/rate_limit/rate_limit_config.h"

#include "config/text_util.h"

namespace ringway::filters::rate_limit {
namespace {

using config::detail::Field;
using config::detail::MapReader;
using config::detail::quote;

Rate read_rate(const Field& field) {
  if (!field.value.IsScalar()) field.fail_type("a rate such as 100/s, 300/m or 5/h");
  const std::string& text = field.value.Scalar();
  auto rate = parse_rate(text);
  if (!rate)
    field.fail("expected a rate such as 100/s, 300/m or 5/h (a whole number from 1 to " +
               std::to_string(kMaxRateCount) + " per s, m or h), got " + quote(text));
  return *rate;
}

int64_t read_burst(const Field& field) { return config::detail::get_int(field, 1, kMaxBurst); }

// A policy name goes into a structured-field string ("name"): printable ASCII
// without the two characters that would need escaping.
bool valid_policy_name(std::string_view name) {
  for (char c : name)
    if (c < ' ' || c > '~' || c == '"' || c == '\\') return false;
  return !name.empty();
}

std::string read_name(const Field& field) {
  std::string name = config::detail::get_nonempty_string(field);
  if (!valid_policy_name(name))
    field.fail("a policy name is printable ASCII without '\"' or '\\', got " + quote(name));
  return name;
}

LimitSpec read_limit(const Field& field) {
  MapReader map(field, "in " + field.path, {"rate", "burst", "name"});
  LimitSpec limit;
  limit.rate = read_rate(map.require("rate"));
  limit.burst = limit.rate.count;
  if (const Field* f = map.find("burst")) limit.burst = read_burst(*f);
  if (const Field* f = map.find("name")) limit.name = read_name(*f);
  return limit;
}

std::vector<KeyPart> read_key(const Field& field) {
  std::vector<KeyPart> parts;
  for (const Field& item :
       config::detail::list_elements(field, true, "a key such as client_ip, or a list of keys")) {
    std::string text = config::detail::get_nonempty_string(item);
    std::string error;
    auto part = parse_key_part(text, error);
    if (!part) item.fail(error);
    for (const KeyPart& seen : parts)
      if (seen == *part) item.fail("key " + quote(text) + " is listed twice");
    parts.push_back(std::move(*part));
  }
  return parts;
}

template <typename Enum>
Enum read_choice(const Field& field, std::initializer_list<std::pair<const char*, Enum>> choices) {
  std::string text = config::detail::get_string(field);
  std::vector<std::string> names;
  for (const auto& [name, value] : choices) {
    if (text == name) return value;
    names.emplace_back(name);
  }
  std::string list;
  for (size_t i = 0; i < names.size(); ++i)
    list += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  field.fail("expected " + list + ", got " + quote(text) +
             config::detail::did_you_mean(text, names));
}

}  // namespace

RateLimitConfig read_rate_limit_config(const FilterBuild& build) {
  MapReader map(build.field, "in filter " + quote(build.spec.name),
                {"type", "key", "rate", "burst", "limits", "max_keys", "missing_key", "when_full",
                 "headers", "x_ratelimit_headers", "status", "clock"});
  RateLimitConfig c;

  // The limits: `rate` (+ `burst`) for one, `limits` for several; not both.
  const Field* rate = map.find("rate");
  const Field* burst = map.find("burst");
  const Field* limits = map.find("limits");
  std::vector<Field> limit_fields;
  if (rate != nullptr && limits != nullptr)
    config::detail::fail_at(limits->key_mark(),
                            limits->path + ": give either rate (and burst) or limits, not both");
  if (limits != nullptr) {
    if (burst != nullptr)
      config::detail::fail_at(burst->key_mark(),
                              burst->path + ": with limits, each limit has its own burst");
    limit_fields = config::detail::list_elements(*limits, false, "a list of limits");
    if (limit_fields.size() > 8) limits->fail("at most 8 limits per filter");
    for (const Field& item : limit_fields) c.limits.push_back(read_limit(item));
  } else if (rate != nullptr) {
    LimitSpec limit;
    limit.rate = read_rate(*rate);
    limit.burst = burst != nullptr ? read_burst(*burst) : limit.rate.count;
    c.limits.push_back(limit);
  } else {
    config::detail::fail_at(map.mark(), "missing required key \"rate\" (or \"limits\") in filter " +
                                            quote(build.spec.name));
  }

  // Policy names: the filter's name for a lone limit, else the filter's name
  // and the rate as written ("api:10/s"), so that two rate_limit filters on a
  // route list their items side by side without a clash. They must differ, as
  // clients match RateLimit items to RateLimit-Policy items by name.
  const std::string prefix = valid_policy_name(build.spec.name) ? build.spec.name : "";
  for (size_t i = 0; i < c.limits.size(); ++i) {
    LimitSpec& l = c.limits[i];
    if (l.name.empty()) {
      if (c.limits.size() == 1)
        l.name = prefix.empty() ? "default" : prefix;
      else
        l.name = prefix.empty() ? format_rate(l.rate) : prefix + ":" + format_rate(l.rate);
    }
    for (size_t j = 0; j < i; ++j)
      if (c.limits[j].name == l.name)
        limit_fields[i].fail("two limits are both named " + quote(l.name) +
                             "; give them distinct names (name:)");
  }

  if (const Field* f = map.find("key")) {
    c.key = read_key(*f);
  } else {
    std::string unused;
    c.key.push_back(*parse_key_part("client_ip", unused));
  }
  if (const Field* f = map.find("max_keys"))
    c.max_keys = config::detail::get_int(*f, static_cast<int64_t>(8), kMaxMaxKeys);
  if (const Field* f = map.find("missing_key"))
    c.missing_key = read_choice<MissingKey>(*f, {{"client_ip", MissingKey::kClientIp},
                                                 {"shared", MissingKey::kShared},
                                                 {"skip", MissingKey::kSkip}});
  if (const Field* f = map.find("when_full"))
    c.when_full =
        read_choice<WhenFull>(*f, {{"allow", WhenFull::kAllow}, {"deny", WhenFull::kDeny}});
  if (const Field* f = map.find("headers")) c.headers = config::detail::get_bool(*f);
  if (const Field* f = map.find("x_ratelimit_headers"))
    c.x_ratelimit_headers = config::detail::get_bool(*f);
  if (const Field* f = map.find("status"))
    c.status = static_cast<int>(config::detail::get_int(*f, 400, 599));
  if (const Field* f = map.find("clock"))
    c.clock = read_choice<Clock>(*f, {{"monotonic", Clock::kMonotonic}, {"loop", Clock::kLoop}});
  return c;
}

}  // namespace ringway::filters::rate_limit
