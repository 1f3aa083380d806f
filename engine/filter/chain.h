#pragma once
// Compiled filter chains: the filter objects of a configuration and, per
// route, the flat array of filters a request on that route runs through.
// Built once at config load (filters/registry.h), then shared read-only by
// every worker; per-worker state lives in the worker (proxy::FilterStates).

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/filter/filter.h"

namespace ringway::filter {

struct FilterChain {
  std::vector<const Filter*> filters;  // request order
  std::vector<uint32_t> ids;           // index of each in FilterSet::filters
  uint8_t phases = 0;                  // union of the filters' phase masks
  bool empty() const { return filters.empty(); }
};

struct FilterSet {
  std::vector<std::shared_ptr<const Filter>> filters;  // by Config::filters index
  std::vector<FilterChain> routes;                     // by Config::routes index

  // Chains from the routes' filter indexes; `filters` must be complete.
  void link(const std::vector<std::vector<size_t>>& route_filters) {
    routes.clear();
    for (const auto& indexes : route_filters) {
      FilterChain chain;
      for (size_t i : indexes) {
        chain.filters.push_back(filters[i].get());
        chain.ids.push_back(static_cast<uint32_t>(i));
        chain.phases |= filters[i]->phases();
      }
      routes.push_back(std::move(chain));
    }
  }
};

using FilterSetPtr = std::shared_ptr<const FilterSet>;

}  // namespace ringway::filter
