#pragma once
// Loading and validating the YAML configuration file (docs/config.md).
//
// Loading either yields a complete, validated, immutable Config or one error
// line "FILE:LINE:COLUMN: what is wrong" (1-based, as editors count) -- the
// form compilers use, so editors and CI logs can jump to it. Nothing throws.

#include <string>

#include "config/config.h"

namespace ringway::config {

struct LoadResult {
  ConfigPtr config;   // set on success
  std::string error;  // set on failure: one line, no trailing newline
  bool ok() const { return config != nullptr; }
};

// Reads and loads `path`. An unreadable file gives "FILE: cannot read: <strerror>".
LoadResult load_config_file(const std::string& path);

// Loads YAML text; `file_name` is used in error messages and Config::source_file.
LoadResult load_config_string(const std::string& yaml, const std::string& file_name);

}  // namespace ringway::config
