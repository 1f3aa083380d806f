#pragma once
// Answers at the gateway, as a route action (docs/filters/respond.md):
//   type: respond    status, body, content_type, headers (templates)
//   type: redirect   status (301/302/303/307/308), location (template), keep_query
// A route whose chain always answers needs no upstream.

#include <memory>

#include "filters/registry.h"

namespace ringway::filters {

std::shared_ptr<const filter::Filter> compile_respond(const FilterBuild& build);
std::shared_ptr<const filter::Filter> compile_redirect(const FilterBuild& build);

}  // namespace ringway::filters
