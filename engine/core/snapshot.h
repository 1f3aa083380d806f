#pragma once
// One generation of configuration, ready to run.

#include <memory>

#include "config/config.h"
#include "engine/filter/chain.h"
#include "engine/routing/router.h"

namespace ringway::core {

// The validated config, its routes compiled and its filters built. Immutable
// and shared by the workers of one generation; a reload makes a new one, and
// the old one lives on while workers draining under it still hold it.
struct Snapshot {
  config::ConfigPtr config;
  std::shared_ptr<const routing::Router> router;
  filter::FilterSetPtr filters;
};

}  // namespace ringway::core
