#pragma once
// The jwt filter: verifies a JWT (RFC 7519) carried by each request before it
// goes upstream, and hands its claims on as request headers and attributes.
// Configuration and behaviour: docs/filters/jwt.md.
//
// Registry line (filters/registry.cc, kTypes): {"jwt", compile_jwt},

#include <memory>

#include "engine/filter/filter.h"
#include "filters/registry.h"

namespace ringway::filters {

// Reads the filter's keys (throws config::detail::ConfigError on a bad value,
// unreadable key file or unusable key) and returns the filter.
std::shared_ptr<const filter::Filter> compile_jwt(const FilterBuild& build);

}  // namespace ringway::filters
