#include "filters/headers/value_template.h"

#include "config/config.h"
#include "config/text_util.h"
#include "filters/header_rules.h"

namespace ringway::filters {
namespace {

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

bool ValueTemplate::parse(std::string_view text, ValueTemplate& out, std::string& error) {
  out = ValueTemplate{};
  out.text_ = std::string(text);
  if (!config::detail::is_field_value(text)) {
    error = config::detail::kFieldValueRule;
    return false;
  }
  std::string literal;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '$') {
      literal.push_back(text[i++]);
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '$') {
      literal.push_back('$');
      i += 2;
      continue;
    }
    if (i + 1 >= text.size() || text[i + 1] != '{') {
      error = "a '$' must start a variable \"${name}\" (write \"$$\" for a literal '$')";
      return false;
    }
    size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      error = "unclosed \"${\"";
      return false;
    }
    std::string_view name = text.substr(i + 2, close - i - 2);
    if (!valid_name(name)) {
      error = "invalid variable name \"" + std::string(name) + "\"";
      return false;
    }
    if (!literal.empty()) out.parts_.push_back({false, Builtin::kNone, std::move(literal)});
    literal.clear();
    Part part{true, Builtin::kNone, std::string(name)};
    static const std::pair<std::string_view, Builtin> kBuiltins[] = {
        {"client_ip", Builtin::kClientIp}, {"request_id", Builtin::kRequestId},
        {"route", Builtin::kRoute},        {"upstream", Builtin::kUpstream},
        {"host", Builtin::kHost},          {"method", Builtin::kMethod},
        {"path", Builtin::kPath},          {"query", Builtin::kQuery}};
    for (const auto& [n, b] : kBuiltins)
      if (name == n) part.builtin = b;
    out.parts_.push_back(std::move(part));
    i = close + 1;
  }
  if (!literal.empty()) out.parts_.push_back({false, Builtin::kNone, std::move(literal)});
  return true;
}

bool ValueTemplate::expand(filter::Context& ctx, std::string& out) const {
  out.clear();
  for (const Part& p : parts_) {
    if (!p.variable) {
      out.append(p.text);
      continue;
    }
    std::string_view v;
    switch (p.builtin) {
      case Builtin::kClientIp:
        // As resolved by ip_rules behind trusted proxies, else the peer.
        v = ctx.has_attribute("client_ip") ? ctx.attribute("client_ip") : ctx.client_ip;
        break;
      case Builtin::kRequestId: v = ctx.request_id(); break;
      case Builtin::kRoute: v = ctx.route != nullptr ? std::string_view(ctx.route->name) : ""; break;
      case Builtin::kUpstream: v = ctx.upstream; break;
      case Builtin::kHost: v = ctx.request->host; break;
      case Builtin::kMethod: v = ctx.request->method; break;
      case Builtin::kPath: v = ctx.request->path; break;
      case Builtin::kQuery: v = ctx.request->query; break;
      case Builtin::kNone: v = ctx.attribute(p.text); break;
    }
    out.append(v);
  }
  return config::detail::is_field_value(out);
}

ValueTemplate read_template(const config::detail::Field& field) {
  ValueTemplate t;
  std::string error;
  if (!ValueTemplate::parse(config::detail::get_string(field), t, error)) field.fail(error);
  return t;
}

std::string read_header_name(const config::detail::Field& field) {
  std::string name = config::detail::get_nonempty_string(field);
  if (!config::detail::is_http_token(name))
    field.fail("invalid header name " + config::detail::quote(name));
  if (is_gateway_managed_header(name))
    field.fail(config::detail::quote(name) + " is managed by the gateway and cannot be set by a filter");
  return name;
}

std::vector<HeaderTemplate> read_header_templates(const config::detail::Field& field) {
  std::vector<HeaderTemplate> out;
  for (const config::detail::Field& entry : config::detail::map_entries(field, "header")) {
    config::detail::Field key{YAML::Node(), entry.key, entry.path};
    out.push_back({read_header_name(key), read_template(entry)});
  }
  return out;
}

}  // namespace ringway::filters
