#pragma once
// Header values with variables, as written in the config:
//   "${client_ip}", "user-${jwt.sub}", "${request_id}"
// Built-in variables: client_ip, request_id, route, upstream, host, method,
// path, query. Any other name is a request attribute set by an earlier filter
// ("jwt.sub", "consumer"). "$$" is a literal "$".
//
// Parsed once at config load; expanding is a walk over literal and variable
// parts. A value that would contain CR, LF or NUL after expansion is dropped
// (the header is not sent): variables carry client-controlled text, and a
// line break in it would be header injection.

#include <string>
#include <string_view>
#include <vector>

#include "config/yaml_reader.h"
#include "engine/filter/filter.h"

namespace ringway::filters {

class ValueTemplate {
 public:
  // Returns false with `error` set for a malformed template (unclosed "${",
  // empty or invalid variable name, CR/LF/NUL in the literal text).
  static bool parse(std::string_view text, ValueTemplate& out, std::string& error);

  // Expands into `out`; false when the result must not be sent (CR/LF/NUL).
  bool expand(filter::Context& ctx, std::string& out) const;
  bool is_literal() const { return parts_.size() <= 1 && (parts_.empty() || !parts_[0].variable); }
  const std::string& text() const { return text_; }

 private:
  enum class Builtin { kNone, kClientIp, kRequestId, kRoute, kUpstream, kHost, kMethod, kPath, kQuery };
  struct Part {
    bool variable = false;
    Builtin builtin = Builtin::kNone;
    std::string text;  // literal text, or the attribute name
  };
  std::vector<Part> parts_;
  std::string text_;
};

// Reading templates from config (headers, respond, redirect): errors at the
// value's position.
ValueTemplate read_template(const config::detail::Field& field);

// A header name a filter may set or remove: an HTTP token the gateway does
// not manage (header_rules.h). `field.value` is the name.
std::string read_header_name(const config::detail::Field& field);

// A `{Name: template, ...}` map.
struct HeaderTemplate {
  std::string name;
  ValueTemplate value;
};
std::vector<HeaderTemplate> read_header_templates(const config::detail::Field& field);

}  // namespace ringway::filters
