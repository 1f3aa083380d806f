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
    "a second SIGTERM/SIGINT stops at once.\n";

// Loads and fully validates (routes compiled too). Prints the error and
// returns nullptr on failure.
ringway::config::ConfigPtr load(const std::string& path) {
  auto result = ringway::config::load_config_file(path);
  if (!result.ok()) {
    fprintf(stderr, "%s\n", result.error.c_str());
    return nullptr;
  }
  std::string error;
  if (!ringway::routing::Router::build(*result.config, &error)) {
    fprintf(stderr, "%s\n", error.c_str());
    return nullptr;
  }
  return result.config;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path = "ringway.yaml";
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
    if (arg == "check" && i == 1) {
      check = true;
    } else if (arg == "--config" || arg == "-c") {
      if (++i >= argc) {
        fprintf(stderr, "ringway: %s needs a file name\n%s", arg.c_str(), kUsage);
        return 2;
      }
      config_path = argv[i];
    } else if (arg.rfind("--config=", 0) == 0) {
      config_path = arg.substr(9);
    } else if (check && arg[0] != '-') {
      config_path = arg;
    } else {
      fprintf(stderr, "ringway: unknown argument '%s'\n%s", arg.c_str(), kUsage);
      return 2;
    }
  }
  ringway::config::ConfigPtr config = load(config_path);
  if (!config) return 1;
  ringway::filters::CompileResult filters = ringway::filters::compile(*config);
  if (!filters.ok()) {
    fprintf(stderr, "%s\n", filters.error.c_str());
    return 1;
  }
  if (check) {
    printf("%s: OK\n", config_path.c_str());
    return 0;
  }
  return ringway::core::run_server(config, filters.set);
}
