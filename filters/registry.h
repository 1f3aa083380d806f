#pragma once
// Turns the `filters:` section of a loaded Config into filter objects and
// per-route chains. Each filter type lives in filters/<type>/ with its own
// config reader; this file only knows the list of types.

#include <memory>
#include <string>

#include "config/config.h"
#include "config/yaml_reader.h"
#include "engine/filter/chain.h"

namespace ringway::filters {

// What a type's compiler gets: its spec as a located YAML field, and the
// whole config (file name, for paths relative to the config file).
struct FilterBuild {
  const config::FilterSpec& spec;
  const config::detail::Field& field;
  const config::Config& config;
  // The filters compiled so far (those above this one in the file), by
  // Config::filters index: for a filter that acts on another (cache_purge).
  // Null in unit tests that compile one filter alone.
  const filter::FilterSet* built = nullptr;
  // On a reload: the running filter with the same name and type, or null. A
  // filter whose state is shared by all workers (rate_limit's table) may
  // carry it over when its config says that state still means the same.
  const filter::Filter* running = nullptr;
  // `path` resolved against the config file's directory unless absolute.
  std::string resolve_path(const std::string& path) const;
};

// Reads the spec's keys and returns the filter; throws config::detail::ConfigError
// (field.fail()) on a bad value.
using Compiler = std::shared_ptr<const filter::Filter> (*)(const FilterBuild& build);

struct CompileResult {
  filter::FilterSetPtr set;  // set on success
  std::string error;         // "FILE:LINE:COLUMN: what is wrong" on failure
  bool ok() const { return set != nullptr; }
};

// The configuration a reload replaces (empty at start and in `check`).
struct RunningFilters {
  const config::Config* config = nullptr;
  const filter::FilterSet* set = nullptr;
  // Its filter named `name`, if it has the type `type`; else null.
  const filter::Filter* find(const std::string& name, const std::string& type) const;
};

CompileResult compile(const config::Config& config, const RunningFilters& running = {});

// The known type names, for messages and docs.
std::vector<std::string> type_names();

}  // namespace ringway::filters
