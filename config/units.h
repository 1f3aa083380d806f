#pragma once
// Byte sizes ("16KiB") and durations ("10s") as written in the config file.
//
// Sizes: a byte count, optionally followed by a unit. Units are 1024-based:
// B; k, K, KiB; m, M, MiB; g, G, GiB. "KB", "MB" and "GB" are refused because
// half of the world reads them as powers of 1000 and half as powers of 1024.
// Durations: a whole number of milliseconds, optionally followed by ms, s, m
// or h; short durations (waits below a millisecond) need one of us, ms, s.
// A space between number and unit is allowed ("16 KiB", "10 s").

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringway::config::detail {

// nullopt for malformed text or a value that overflows 64 bits.
std::optional<uint64_t> parse_size(std::string_view text);
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
// Short waits: a unit is required, us, ms or s ("100us"); "0" needs none.
std::optional<std::chrono::microseconds> parse_short_duration(std::string_view text);

// True when `text` looks like a size with a 1000-or-1024 ambiguous unit
// ("16KB"), so the error message can say why it was refused.
bool is_ambiguous_size(std::string_view text);

// The shortest exact spelling in the same syntax: 16384 -> "16KiB",
// 1500 -> "1500B"; 10000ms -> "10s", 90000ms -> "90s", 1500ms -> "1500ms".
std::string format_size(uint64_t bytes);
std::string format_duration(std::chrono::milliseconds d);
std::string format_short_duration(std::chrono::microseconds d);

}  // namespace ringway::config::detail
