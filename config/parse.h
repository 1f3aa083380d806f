#pragma once
// The section parsers behind load_config_string(). Each reads one part of the
// document into the Config under construction and throws ConfigError on the
// first problem. Internal to the config library.

#include <string>

#include "config/config.h"
#include "config/yaml_reader.h"

namespace ringway::config::detail {

// server_sections.cc
void parse_listeners(const Field& field, std::vector<Listener>& out);
void parse_workers(const Field& field, EngineTuning& engine);
void parse_engine(const Field& field, EngineTuning& engine);
void parse_limits(const Field& field, Limits& limits);

// upstream_section.cc
void parse_upstreams(const Field& field, std::vector<Upstream>& out);

// filter_section.cc: the `filters:` map (names and types), and a list of
// filter names resolved to indexes (`default_filters:`, a route's `filters:`).
void parse_filters(const Field& field, std::vector<FilterSpec>& out);
std::vector<size_t> parse_filter_names(const Field& field, const std::vector<FilterSpec>& filters);

// route_section.cc; needs the upstreams already parsed to resolve names.
void parse_routes(const Field& field, const std::string& file_name, Config& config);

}  // namespace ringway::config::detail
