#pragma once
// The keys of a `type: compress` filter, read and checked at config load.

#include <cstdint>

#include "config/yaml_reader.h"
#include "filters/compress/content_types.h"

namespace ringway::filters::compress {

// Level 6 as the default, from bench/micro/filter_compress.cc (docs/filters/
// compress.md has the numbers): on HTML and JSON level 9 is only 2% smaller
// at 1.6-1.9x the CPU, and level 1 output is 19-23% larger. Level 1 streams
// about 4x as fast, for a gateway that is short of CPU.
constexpr int kDefaultLevel = 6;
// Below this a gzip member (18 bytes of framing, Huffman tables) barely pays:
// on the HTML and JSON files of a Debian install, gzip -6 of the first 64
// bytes is 17% larger than the input, of 128 bytes 5% smaller, of 256 bytes
// 28% smaller, of 1 KiB 56% smaller.
constexpr uint64_t kDefaultMinLength = 256;

struct CompressConfig {
  int level = kDefaultLevel;
  uint64_t min_length = kDefaultMinLength;  // known Content-Length below this: left alone
  TypeList types = TypeList::defaults();
};

// Reads `field` (the filter's map: type, level, min_length, types); throws
// ConfigError via field.fail() on an unknown key or a bad value.
CompressConfig read_compress_config(const config::detail::Field& field, const std::string& name);

}  // namespace ringway::filters::compress
