#pragma once
// `type: compress`: gzip for text responses the client accepts gzip for
// (docs/filters/compress.md). Registered in filters/registry.cc as "compress".

#include <memory>

#include "filters/registry.h"

namespace ringway::filters {

std::shared_ptr<const filter::Filter> compile_compress(const FilterBuild& build);

}  // namespace ringway::filters
