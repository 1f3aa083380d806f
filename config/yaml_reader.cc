#include "config/yaml_reader.h"

#include <charconv>
#include <string>
#include <unordered_map>

#include "config/text_util.h"
#include "config/units.h"

namespace ringway::config::detail {

std::string format_error(const std::string& file, const YAML::Mark& mark, const std::string& message) {
  // yaml-cpp uses -1 for "no position" (Mark::null_mark()).
  if (mark.line < 0 || mark.column < 0) return file + ": " + message;
  return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) + ": " +
         message;
}

void fail_at(const YAML::Mark& mark, std::string message) {
  throw ConfigError{mark, std::move(message)};
}

int line_of(const YAML::Mark& mark) { return mark.line + 1; }

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return "null";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Scalar:
      break;
  }
  return quote(node.Scalar());
}

YAML::Mark Field::mark() const {
  // A default-constructed Node (list elements have no key) is a defined null,
  // so test for a real key by its type.
  if (key.IsScalar() && (!value || value.IsNull())) return key.Mark();
  YAML::Mark mark = value.Mark();
  return mark.is_null() ? fallback : mark;
}

void Field::fail(const std::string& problem) const { fail_at(mark(), path + ": " + problem); }

void Field::fail_type(const std::string& expected) const {
  fail("expected " + expected + ", got " + describe(value));
}

Field Field::element(size_t i, const YAML::Node& node) const {
  return Field{YAML::Node(), node, path + "[" + std::to_string(i) + "]", mark()};
}

namespace {

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

// Shared by MapReader and map_entries: non-string and repeated keys are errors
// (yaml-cpp keeps both entries of a repeated key; which one a lookup returns
// is an accident of its implementation, so refuse rather than guess).
// `duplicate` names the key's role in the message ("key \"x\" in listen[0]",
// "upstream name \"x\"") as a function of the key.
template <typename DuplicateText>
std::vector<Field> collect_entries(const YAML::Node& map, const std::string& path,
                                   DuplicateText duplicate) {
  std::vector<Field> fields;
  std::unordered_map<std::string, size_t> index;  // key -> its field (maps may be huge: upstreams)
  // Iterate by value: yaml-cpp's iterator returns its pair through a temporary
  // proxy, so a reference to it->first would dangle.
  for (const auto& entry : map) {
    const YAML::Node key = entry.first;
    if (!key.IsScalar())
      fail_at(key.Mark(), (path.empty() ? "" : path + ": ") + "expected a key name, got " +
                              describe(key));
    auto [it, added] = index.emplace(key.Scalar(), fields.size());
    if (!added)
      fail_at(key.Mark(), "duplicate " + duplicate(key.Scalar()) + " (first at line " +
                              std::to_string(line_of(fields[it->second].key.Mark())) + ")");
    fields.push_back(Field{key, entry.second, join_path(path, key.Scalar())});
  }
  return fields;
}

}  // namespace

MapReader::MapReader(const YAML::Node& node, std::string where, std::string path,
                     std::initializer_list<std::string_view> allowed_keys)
    : mark_(node.Mark()), where_(std::move(where)), path_(std::move(path)) {
  if (!node.IsMap()) {
    if (path_.empty())
      fail_at(mark_, "expected a map of settings at top level, got " + describe(node));
    fail_at(mark_, path_ + ": expected a map, got " + describe(node));
  }
  fields_ = collect_entries(node, path_, [this](const std::string& key) {
    return "key " + quote(key) + " " + where_;
  });
  std::vector<std::string> allowed(allowed_keys.begin(), allowed_keys.end());
  for (const auto& f : fields_) {
    const std::string& name = f.key.Scalar();
    bool known = false;
    for (const auto& a : allowed) known = known || a == name;
    // yaml-cpp 0.7 does not implement merge keys; it hands "<<" over as a key.
    if (name == "<<")
      fail_at(f.key.Mark(), "YAML merge keys (\"<<\") are not supported " + where_ +
                                "; repeat the keys instead");
    if (!known)
      fail_at(f.key.Mark(), "unknown key " + quote(name) + " " + where_ + did_you_mean(name, allowed));
  }
}

namespace {
const YAML::Node& checked_map(const Field& field) {
  if (!field.value.IsMap()) field.fail_type("a map");
  return field.value;
}
}  // namespace

MapReader::MapReader(const Field& field, std::string where,
                     std::initializer_list<std::string_view> allowed_keys)
    : MapReader(checked_map(field), std::move(where), field.path, allowed_keys) {}

const Field* MapReader::find(std::string_view key) const {
  for (const auto& f : fields_)
    if (f.key.Scalar() == key) return &f;
  return nullptr;
}

const Field& MapReader::require(std::string_view key) const {
  if (const Field* f = find(key)) return *f;
  fail_at(mark_, "missing required key " + quote(key) + " " + where_);
}

std::vector<Field> map_entries(const Field& field, const std::string& key_role) {
  if (!field.value.IsMap()) field.fail_type("a map");
  return collect_entries(field.value, field.path, [&](const std::string& key) {
    return key_role + " " + quote(key);
  });
}

std::vector<Field> list_elements(const Field& field, bool allow_scalar, const std::string& expected) {
  std::vector<Field> out;
  if (allow_scalar && field.value.IsScalar()) {
    out.push_back(Field{field.key, field.value, field.path});
    return out;
  }
  // "listen:" with nothing under it reads as null; "empty" is what was meant.
  if (field.value.IsNull()) field.fail("must not be empty");
  if (!field.value.IsSequence()) field.fail_type(expected);
  if (field.value.size() == 0) field.fail("must not be empty");
  size_t i = 0;
  for (const auto& element : field.value) out.push_back(field.element(i++, element));
  return out;
}

std::string get_string(const Field& field) {
  if (!field.value.IsScalar()) field.fail_type("a string");
  return field.value.Scalar();
}

bool get_bool(const Field& field) {
  if (field.value.IsScalar() && !field.value.Tag().empty() && field.value.Tag() != "?")
    field.fail_type("true or false");
  const std::string& s = field.value.IsScalar() ? field.value.Scalar() : std::string();
  if (s == "true") return true;
  if (s == "false") return false;
  field.fail_type("true or false");
  return false;
}

std::string get_nonempty_string(const Field& field) {
  std::string s = get_string(field);
  if (s.empty()) field.fail("must not be empty");
  return s;
}

bool is_integer_scalar(const YAML::Node& node) {
  if (!node.IsScalar()) return false;
  const std::string& tag = node.Tag();
  return tag == "?" || tag == "tag:yaml.org,2002:int";
}

int64_t get_int(const Field& field, int64_t min, int64_t max) {
  const std::string range = "between " + std::to_string(min) + " and " + std::to_string(max);
  if (!field.value.IsScalar()) field.fail_type("an integer " + range);
  if (!is_integer_scalar(field.value))
    field.fail("expected an integer " + range + ", got the string " + quote(field.value.Scalar()));
  const std::string& text = field.value.Scalar();
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (begin != end && *begin == '+') ++begin;  // from_chars refuses a '+' sign
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec == std::errc::result_out_of_range && ptr == end)
    field.fail("must be " + range + ", got " + text);
  if (ec != std::errc() || ptr != end || begin == end) field.fail_type("an integer " + range);
  if (value < min || value > max) field.fail("must be " + range + ", got " + text);
  return value;
}

uint64_t get_size(const Field& field, uint64_t min, uint64_t max) {
  const std::string range = "between " + format_size(min) + " and " + format_size(max);
  if (!field.value.IsScalar()) field.fail_type("a size such as 4096 or 16KiB");
  const std::string& text = field.value.Scalar();
  if (is_ambiguous_size(text))
    field.fail("ambiguous size unit in " + quote(text) +
               "; sizes are 1024-based, write KiB, MiB or GiB");
  auto value = parse_size(text);
  if (!value) field.fail_type("a size such as 4096 or 16KiB (units B, KiB, MiB, GiB)");
  if (*value < min || *value > max) field.fail("must be " + range + ", got " + text);
  return *value;
}

std::chrono::milliseconds get_duration(const Field& field, std::chrono::milliseconds min,
                                       std::chrono::milliseconds max) {
  const std::string range = "between " + format_duration(min) + " and " + format_duration(max);
  if (!field.value.IsScalar())
    field.fail_type("a duration such as 500ms or 10s");
  const std::string& text = field.value.Scalar();
  auto value = parse_duration(text);
  if (!value) field.fail_type("a duration such as 500ms or 10s (units ms, s, m, h)");
  if (*value < min || *value > max) field.fail("must be " + range + ", got " + text);
  return *value;
}

std::chrono::microseconds get_short_duration(const Field& field, std::chrono::microseconds min,
                                             std::chrono::microseconds max) {
  const std::string range =
      "between " + format_short_duration(min) + " and " + format_short_duration(max);
  constexpr const char* kExpected = "a duration such as 100us or 1ms (units us, ms, s)";
  if (!field.value.IsScalar()) field.fail_type(kExpected);
  const std::string& text = field.value.Scalar();
  auto value = parse_short_duration(text);
  if (!value) field.fail_type(kExpected);
  if (*value < min || *value > max) field.fail("must be " + range + ", got " + text);
  return *value;
}

}  // namespace ringway::config::detail
