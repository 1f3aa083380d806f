#pragma once
// The response cache filter (RFC 9111 shared cache), `type: cache`.
// docs/filters/cache.md describes the keys and exactly what is implemented.

#include <cstdint>
#include <memory>
#include <string_view>

#include "engine/filter/filter.h"
#include "filters/registry.h"

namespace ringway::filters {

std::shared_ptr<const filter::Filter> compile_cache(const FilterBuild& build);

// Removes stored responses from every worker's store of a cache filter.
// `host` as in the Host header, port included ("" = every host); `path` is
// the path with an optional "?query" (exact), or with `prefix` any string the
// stored path-and-query starts with ("" with prefix = everything for the
// host). Workers apply it before their next lookup; callable from any
// thread. Returns false when `filter` is not a cache filter.
bool purge_cache(const filter::Filter& filter, std::string_view host, std::string_view path, bool prefix);

}  // namespace ringway::filters
