#pragma once
// CORS at the gateway (docs/filters/cors.md): preflights answered from
// config, allowed origins get the Access-Control-* headers on responses.
//   type: cors
//   origins: ["https://app.example.com", "~^https://[a-z]+\\.example\\.com$"] | "*"
//   methods: [GET, POST]        headers: [Authorization, Content-Type]
//   expose_headers: [X-Request-Id]   credentials: false   max_age: 10m

#include <memory>

#include "filters/registry.h"

namespace ringway::filters {

std::shared_ptr<const filter::Filter> compile_cors(const FilterBuild& build);

}  // namespace ringway::filters
