#pragma once
// Compiles one filter from YAML as the registry would, for the filter unit
// tests: `body` is the filter's map indented by four spaces under
// `filters.NAME` (so its first key is on line 4), and a config error comes
// back as "FILE:LINE:COLUMN: message".

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>

#include "config/yaml_reader.h"
#include "filters/registry.h"

namespace ringway::filters::testing {

inline const std::string kFile = "/etc/ringway/ringway.yaml";

struct Compiled {
  std::shared_ptr<const filter::Filter> filter;
  std::string error;  // "FILE:LINE:COLUMN: message" when compiling failed
};

inline Compiled compile_one(Compiler compiler, const std::string& type, const std::string& name,
                            const std::string& body) {
  const std::string text = "filters:\n  " + name + ":\n    type: " + type + "\n" + body;
  config::Config cfg;
  cfg.source_file = kFile;
  try {
    YAML::Node n = YAML::Load(text)["filters"][name];
    config::FilterSpec spec{name, type, std::make_shared<const YAML::Node>(n), "filters." + name};
    config::detail::Field field{YAML::Node(), n, spec.path};
    return {compiler(FilterBuild{spec, field, cfg}), ""};
  } catch (const config::detail::ConfigError& e) {
    return {nullptr, config::detail::format_error(kFile, e.mark, e.message)};
  }
}

// The filter, or a test failure that shows the config error.
inline std::shared_ptr<const filter::Filter> must_compile(Compiler compiler, const std::string& type,
                                                         const std::string& name, const std::string& body) {
  Compiled c = compile_one(compiler, type, name, body);
  EXPECT_TRUE(c.filter) << c.error;
  return c.filter;
}

}  // namespace ringway::filters::testing
