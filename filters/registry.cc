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

// What a type means for the order of a chain.
enum class Role {
  kOther,
  kAccess,  // decides who may pass (authentication, address rules)
  kStore,   // answers from responses stored for earlier requests
  kAnswer,  // answers every request itself: a route needs no upstream
};

struct Type {
  const char* name;
  Compiler compile;
  Role role = Role::kOther;
};

// One line per filter type.
constexpr Type kTypes[] = {
    {"api_key", compile_api_key, Role::kAccess},
    {"body_limit", compile_body_limit},
    {"cache", compile_cache, Role::kStore},
    {"cache_purge", compile_cache_purge, Role::kAnswer},
    {"compress", compile_compress},
    {"cors", compile_cors},
    {"headers", compile_headers},
    {"ip_rules", compile_ip_rules, Role::kAccess},
    {"jwt", compile_jwt, Role::kAccess},
    {"rate_limit", compile_rate_limit},
    {"redirect", compile_redirect, Role::kAnswer},
    {"respond", compile_respond, Role::kAnswer},
};

const Type* find_type(const std::string& name) {
  for (const Type& t : kTypes)
    if (name == t.name) return &t;
  return nullptr;
}

std::string route_error(const config::Route& route, const std::string& what) {
  return route.location.file + ":" + std::to_string(route.location.line) + ":" +
         std::to_string(route.location.column) + ": route " + config::detail::quote(route.name) +
         ": " + what;
}

// A store ahead of an access check in a chain would answer requests the
// check never saw, with responses stored for clients it let in: refused.
// A route without an upstream needs a filter that answers every request;
// otherwise its requests would all end in 502.
std::string chain_error(const config::Config& config, const config::Route& route) {
  const config::FilterSpec* store = nullptr;
  bool answers = false;
  for (size_t index : route.filters) {
    const config::FilterSpec& spec = config.filters[index];
    const Type* type = find_type(spec.type);
    if (type->role == Role::kStore && store == nullptr) store = &spec;
    if (type->role == Role::kAccess && store != nullptr)
      return route_error(route, "filter " + config::detail::quote(store->name) + " (" + store->type +
                                    ") comes before " + config::detail::quote(spec.name) + " (" +
                                    spec.type + "): its hits would skip that check; list " +
                                    config::detail::quote(spec.name) + " first");
    answers |= type->role == Role::kAnswer;
  }
  if (route.upstream_index == config::Route::kNoUpstream && !answers)
    return route_error(route, "no upstream, and none of its filters answers every request "
                              "(respond, redirect, cache_purge): give it an upstream");
  return "";
}

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
      const Type* type = find_type(spec.type);
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
  for (const auto& route : config.routes) {
    if (std::string error = chain_error(config, route); !error.empty()) return {nullptr, error};
    chains.push_back(route.filters);
  }
  set->link(chains);
  return {std::move(set), ""};
}

}  // namespace ringway::filters
