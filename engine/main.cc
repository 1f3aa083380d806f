// ringway: command-line entry point.
//   ringway --config FILE          run the gateway
//   ringway check --config FILE    validate a config and exit
//   ringway --version | --help

#include <cstdio>
#include <cstring>
#include <string>

#include "config/loader.h"
#include "engine/core/server.h"
#include "engine/core/version.h"
#include "engine/routing/router.h"
#include "filters/registry.h"

namespace {

constexpr char kUsage[] =
    "usage: ringway [--config FILE]            run the gateway (default: ringway.yaml)\n"
    "       ringway check [--config] FILE      validate a configuration and exit\n"
    "       ringway --version | --help\n"
    "\n"
    "Signals: SIGTERM/SIGINT drain (finish in-flight requests, then exit 0);\n"
    "a second SIGTERM/SIGINT stops at once. SIGHUP reloads the configuration\n"
    "(an invalid one is reported and the running one keeps serving).\n";

// Loads and fully validates a configuration: the YAML, its routes and its
// filters. The same for `check`, the start and every reload (which passes the
// running snapshot, whose filters may hand shared state to their successors).
bool load(const std::string& path, const ringway::core::Snapshot* running,
          ringway::core::Snapshot* out, std::string* error) {
  auto result = ringway::config::load_config_file(path);
  if (!result.ok()) {
    *error = result.error;
    return false;
  }
  auto router = ringway::routing::Router::build(*result.config, error);
  if (!router) return false;
  ringway::filters::RunningFilters previous;
  if (running != nullptr) previous = {running->config.get(), running->filters.get()};
  ringway::filters::CompileResult filters = ringway::filters::compile(*result.config, previous);
  if (!filters.ok()) {
    *error = filters.error;
    return false;
  }
  *out = {result.config, std::move(router), filters.set};
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path = "ringway.yaml";
  bool config_given = false;
  bool check = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--version" || arg == "-V") {
      printf("ringway %s\n", RINGWAY_VERSION);
      return 0;
    }
    std::string path;
    if (arg == "check" && i == 1) {
      check = true;
      continue;
    } else if (arg == "--config" || arg == "-c") {
      if (++i >= argc) {
        fprintf(stderr, "ringway: %s needs a file name\n%s", arg.c_str(), kUsage);
        return 2;
      }
      path = argv[i];
    } else if (arg.rfind("--config=", 0) == 0) {
      path = arg.substr(9);
    } else if (check && !arg.empty() && arg[0] != '-') {
      path = arg;
    } else {
      fprintf(stderr, "ringway: unknown argument '%s'\n%s", arg.c_str(), kUsage);
      return 2;
    }
    // `ringway check a.yaml b.yaml` must not pass on b alone.
    if (config_given) {
      fprintf(stderr, "ringway: one configuration file at a time ('%s' and '%s')\n%s",
              config_path.c_str(), path.c_str(), kUsage);
      return 2;
    }
    config_path = path;
    config_given = true;
  }
  if (check) {
    ringway::core::Snapshot snapshot;
    std::string error;
    if (!load(config_path, nullptr, &snapshot, &error)) {
      fprintf(stderr, "%s\n", error.c_str());
      return 1;
    }
    printf("%s: OK\n", config_path.c_str());
    return 0;
  }
  return ringway::core::run_server([&config_path](const ringway::core::Snapshot* running,
                                                 ringway::core::Snapshot* out, std::string* error) {
    return load(config_path, running, out, error);
  });
}
