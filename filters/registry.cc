#include "filters/registry.h"

#include <exception>

#include "config/text_util.h"
#include "filters/api_key/api_key_filter.h"
#include "filters/body_limit/body_limit_filter.h"
#include "filters/cache/cache_filter.h"
#include "filters/cache/purge_filter.h"
#include "filters/compress/compress_filter.h"
#include "filters/cors/cors_filter.h"
#include "filters/headers/headers_filter.h"
#include "filters/ip_rules/ip_rules_filter.h"
#include "filters/jwt/jwt_filter.h"
#include "filters/rate_limit/rate_limit_filter.h"
#include "filters/respond/respond_filter.h"

namespace ringway::filters {
namespace {

struct Type {
  const char* name;
  Compiler compile;
};

// One line per filter type.
constexpr Type kTypes[] = {
    {"api_key", compile_api_key},
    {"body_limit", compile_body_limit},
    {"cache", compile_cache},
    {"cache_purge", compile_cache_purge},
    {"compress", compile_compress},
    {"cors", compile_cors},
    {"headers", compile_headers},
    {"ip_rules", compile_ip_rules},
    {"jwt", compile_jwt},
    {"rate_limit", compile_rate_limit},
    {"redirect", compile_redirect},
    {"respond", compile_respond},
};

}  // namespace

std::string FilterBuild::resolve_path(const std::string& path) const {
  if (path.empty() || path[0] == '/') return path;
  const std::string& file = config.source_file;
  size_t slash = file.rfind('/');
  return slash == std::string::npos ? path : file.substr(0, slash + 1) + path;
}

std::vector<std::string> type_names() {
  std::vector<std::string> names;
  for (const Type& t : kTypes) names.emplace_back(t.name);
  return names;
}

const filter::Filter* RunningFilters::find(const std::string& name,
                                           const std::string& type) const {
  if (config == nullptr || set == nullptr) return nullptr;
  size_t i = config->find_filter(name, type);
  return i < set->filters.size() ? set->filters[i].get() : nullptr;
}

CompileResult compile(const config::Config& config, const RunningFilters& running) {
  auto set = std::make_shared<filter::FilterSet>();
  try {
    for (const config::FilterSpec& spec : config.filters) {
      config::detail::Field field{YAML::Node(), *spec.node, spec.path};
      const Type* type = nullptr;
      for (const Type& t : kTypes)
        if (spec.type == t.name) type = &t;
      if (type == nullptr) {
        config::detail::Field type_field{YAML::Node(), (*spec.node)["type"], spec.path + ".type"};
        type_field.fail("unknown filter type " + config::detail::quote(spec.type) +
                        config::detail::did_you_mean(spec.type, type_names()));
      }
      FilterBuild build{spec, field, config, set.get()};
      build.running = running.find(spec.name, spec.type);
      set->filters.push_back(type->compile(build));
    }
  } catch (const config::detail::ConfigError& e) {
    return {nullptr, config::detail::format_error(config.source_file, e.mark, e.message)};
  } catch (const YAML::Exception& e) {
    return {nullptr, config::detail::format_error(config.source_file, e.mark, e.msg)};
  } catch (const std::exception& e) {
    return {nullptr, config.source_file + ": " + e.what()};
  }
  std::vector<std::vector<size_t>> chains;
  for (const auto& route : config.routes) chains.push_back(route.filters);
  set->link(chains);
  return {std::move(set), ""};
}

}  // namespace ringway::filters
