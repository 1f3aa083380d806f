#pragma once
// Header and path rewrites (docs/filters/headers.md):
//   type: headers
//   request:  { set: {Name: value}, add: {Name: value}, remove: [Name] }
//   response: { set: ..., add: ..., remove: ... }
//   rewrite:  { regex: "^/v1/(.*)$", replace: "/api/\\1" }
// Values are templates (value_template.h).

#include <memory>

#include "filters/registry.h"

namespace ringway::filters {

std::shared_ptr<const filter::Filter> compile_headers(const FilterBuild& build);

}  // namespace ringway::filters
