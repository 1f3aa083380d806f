// filters: named filter instances (type + the type's own keys), and the lists
// of names that attach them to routes. The type's keys are read later by its
// compiler (filters/registry.h); here only the shape and the type name.

#include <algorithm>

#include "config/parse.h"
#include "config/text_util.h"

namespace ringway::config::detail {

void parse_filters(const Field& field, std::vector<FilterSpec>& out) {
  for (const Field& entry : map_entries(field, "filter")) {
    const std::string& name = entry.key.Scalar();
    if (name.empty() || !is_http_token(name))
      fail_at(entry.key.Mark(), field.path + ": invalid filter name " + quote(name));
    if (!entry.value.IsMap()) entry.fail_type("a map with a \"type\" key");
    const YAML::Node type = entry.value["type"];
    if (!type) fail_at(entry.mark(), entry.path + ": missing required key \"type\"");
    Field type_field{YAML::Node(), type, entry.path + ".type"};
    FilterSpec spec;
    spec.name = name;
    spec.type = get_nonempty_string(type_field);
    spec.node = std::make_shared<const YAML::Node>(entry.value);
    spec.path = entry.path;
    out.push_back(std::move(spec));
  }
}

std::vector<size_t> parse_filter_names(const Field& field, const std::vector<FilterSpec>& filters) {
  std::vector<size_t> chain;
  // An explicit empty list is allowed: a route opting out of default_filters.
  if (field.value.IsSequence() && field.value.size() == 0) return chain;
  std::vector<std::string> names;
  for (const auto& f : filters) names.push_back(f.name);
  for (const Field& item : list_elements(field, true, "a filter name or a list of filter names")) {
    std::string name = get_nonempty_string(item);
    auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end())
      item.fail("unknown filter " + quote(name) +
                (names.empty() ? std::string(" (there is no filters: section)") : did_you_mean(name, names)));
    size_t index = static_cast<size_t>(it - names.begin());
    if (std::find(chain.begin(), chain.end(), index) != chain.end())
      item.fail("filter " + quote(name) + " is listed twice");
    chain.push_back(index);
  }
  if (chain.size() > 32) field.fail("at most 32 filters per route");
  return chain;
}

}  // namespace ringway::config::detail
