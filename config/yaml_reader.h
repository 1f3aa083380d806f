#pragma once
// Typed, located access to a yaml-cpp tree for the config parsers.
//
// Every value is read through a Field, which remembers where the value sits in
// the file and the dotted path used in messages ("upstreams.origin.idle_timeout"),
// so that each check can fail with one call and still produce the
// "FILE:LINE:COLUMN: what is wrong" line the loader promises. Failures are
// thrown as ConfigError and caught by the loader; nothing here escapes it.

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace ringway::config::detail {

// The one error type the parsers throw. `mark` is yaml-cpp's (0-based).
struct ConfigError {
  YAML::Mark mark;
  std::string message;
};

// "FILE:LINE:COLUMN: message" (1-based), or "FILE: message" without a position.
std::string format_error(const std::string& file, const YAML::Mark& mark, const std::string& message);

[[noreturn]] void fail_at(const YAML::Mark& mark, std::string message);

// 1-based line of a mark, for "(first at line N)" references.
int line_of(const YAML::Mark& mark);

// "null", "a list", "a map", or the scalar quoted; for "expected X, got Y".
std::string describe(const YAML::Node& node);

// One value in the tree: a map entry (key set) or a list element (key null).
struct Field {
  YAML::Node key;
  YAML::Node value;
  std::string path;
  // For list elements: where the list is, used when yaml-cpp gives the
  // element no position (an empty "-" as the last line of the file).
  YAML::Mark fallback = YAML::Mark::null_mark();

  // Where errors about the value point. An empty value ("backlog:") carries the
  // position of the next token, often on a later line, so those point at the key.
  YAML::Mark mark() const;
  YAML::Mark key_mark() const { return key.IsScalar() ? key.Mark() : mark(); }

  // Throws "<path>: <problem>" at the value.
  [[noreturn]] void fail(const std::string& problem) const;
  [[noreturn]] void fail_type(const std::string& expected) const;  // "expected X, got Y"

  // Element i of a list value, with path "<path>[i]".
  Field element(size_t i, const YAML::Node& node) const;
};

// A map whose keys are checked against a fixed set on construction: a key
// outside the set, a duplicate key or a non-string key is an error there.
class MapReader {
 public:
  // `where` completes messages about the map itself ("in upstream \"origin\"",
  // "at top level"); `path` prefixes the paths of its fields ("" at top level).
  // A node that is not a map fails with "<path>: expected a map, got ...".
  MapReader(const YAML::Node& node, std::string where, std::string path,
            std::initializer_list<std::string_view> allowed_keys);
  // The map held by `field`; a non-map value fails at the field's position
  // (for an empty value, its key).
  MapReader(const Field& field, std::string where, std::initializer_list<std::string_view> allowed_keys);

  // The field for `key`, or nullptr when absent.
  const Field* find(std::string_view key) const;
  // The field for `key`; absent is "missing required key" at the map.
  const Field& require(std::string_view key) const;

  const YAML::Mark& mark() const { return mark_; }
  const std::string& path() const { return path_; }
  const std::vector<Field>& fields() const { return fields_; }

 private:
  YAML::Mark mark_;
  std::string where_;
  std::string path_;
  std::vector<Field> fields_;
};

// Iterates a map whose keys are free-form (upstream names, header names),
// rejecting non-string and duplicate keys ("duplicate <key_role> \"k\"").
// Paths are "<path>.<key>".
std::vector<Field> map_entries(const Field& field, const std::string& key_role);

// The elements of a list value; `allow_scalar` also accepts one bare value as
// a list of one ("methods: GET"). An empty list or a null value fails with
// "must not be empty".
std::vector<Field> list_elements(const Field& field, bool allow_scalar, const std::string& expected);

// Typed values. Range failures name the range and the value given.
std::string get_string(const Field& field);
bool get_bool(const Field& field);
std::string get_nonempty_string(const Field& field);
int64_t get_int(const Field& field, int64_t min, int64_t max);
uint64_t get_size(const Field& field, uint64_t min, uint64_t max);
std::chrono::microseconds get_short_duration(const Field& field, std::chrono::microseconds min,
                                             std::chrono::microseconds max);
std::chrono::milliseconds get_duration(const Field& field, std::chrono::milliseconds min,
                                       std::chrono::milliseconds max);

// True for a scalar written as a YAML integer (plain, or tagged !!int); a
// quoted "42" is a string.
bool is_integer_scalar(const YAML::Node& node);

}  // namespace ringway::config::detail
