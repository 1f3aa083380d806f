#pragma once
// Client address rules (docs/filters/ip_rules.md):
//   type: ip_rules
//   allow: [10.0.0.0/8, "2001:db8::/32"]     # optional
//   deny:  [10.1.0.0/16]                     # optional; one of the two required
//   trusted_proxies: [192.0.2.10, 198.51.100.0/24]  # optional
//   real_ip_header: X-Forwarded-For          # default
// The client address is the peer's, or, when the peer is a trusted proxy,
// the one found in X-Forwarded-For from the right (nginx real_ip_recursive).
// Deny is checked first: a denied address is refused (403) whatever allow
// says; then, when allow is given, an address not in it is refused. The
// resolved address is set as the request attribute "client_ip".

#include <memory>

#include "filters/registry.h"

namespace ringway::filters {

std::shared_ptr<const filter::Filter> compile_ip_rules(const FilterBuild& build);

}  // namespace ringway::filters
