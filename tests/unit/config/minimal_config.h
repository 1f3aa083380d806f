#pragma once
// The issue's minimal config, shared by the loader tests. Nine lines: text
// appended to it starts at line 10.

namespace ringway::config {

inline constexpr const char* kMinimal = R"(listen:
  - address: 127.0.0.1:8080
workers: 1
upstreams:
  origin:
    endpoints: ["127.0.0.1:9001"]
routes:
  - match: { prefix: / }
    upstream: origin
)";

}  // namespace ringway::config
