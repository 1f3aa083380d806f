#include "config/units.h"

#include <array>
#include <charconv>
#include <utility>

namespace ringway::config::detail {
namespace {

struct Unit {
  std::string_view suffix;
  uint64_t factor;
};

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;
constexpr uint64_t kGiB = 1024 * kMiB;

constexpr std::array<Unit, 10> kSizeUnits{{
    {"B", 1},
    {"k", kKiB}, {"K", kKiB}, {"KiB", kKiB},
    {"m", kMiB}, {"M", kMiB}, {"MiB", kMiB},
    {"g", kGiB}, {"G", kGiB}, {"GiB", kGiB},
}};

constexpr std::array<Unit, 4> kDurationUnits{{
    {"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 60 * 60 * 1000},
}};

constexpr std::array<Unit, 3> kShortDurationUnits{{
    {"us", 1}, {"ms", 1000}, {"s", 1000 * 1000},
}};

// Splits "16 KiB" into 16 and "KiB". Only plain decimal digits are accepted:
// no sign, no fraction, no exponent, no hex -- a config value that needs any
// of those is almost certainly a mistake.
bool split_number(std::string_view text, uint64_t& number, std::string_view& suffix) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + digits, number);
  if (ec != std::errc() || ptr != text.data() + digits) return false;  // overflow
  suffix = text.substr(digits);
  if (!suffix.empty() && suffix.front() == ' ') suffix.remove_prefix(1);
  return true;
}

template <size_t N>
std::optional<uint64_t> scale(std::string_view text, const std::array<Unit, N>& units,
                              uint64_t no_suffix_factor) {
  uint64_t number = 0;
  std::string_view suffix;
  if (!split_number(text, number, suffix)) return std::nullopt;
  uint64_t factor = 0;
  if (suffix.empty()) {
    // "16 " (a space and nothing else) is not a number.
    if (text.back() == ' ') return std::nullopt;
    factor = no_suffix_factor;
  }
  for (const auto& u : units)
    if (u.suffix == suffix) factor = u.factor;
  if (factor == 0) return std::nullopt;
  uint64_t result = 0;
  if (__builtin_mul_overflow(number, factor, &result)) return std::nullopt;
  return result;
}

}  // namespace

std::optional<uint64_t> parse_size(std::string_view text) {
  return scale(text, kSizeUnits, 1);
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  auto ms = scale(text, kDurationUnits, 1);
  // milliseconds::rep is signed; keep well clear of its range.
  if (!ms || *ms > (uint64_t{1} << 62)) return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(*ms));
}

std::optional<std::chrono::microseconds> parse_short_duration(std::string_view text) {
  if (text == "0") return std::chrono::microseconds(0);
  auto us = scale(text, kShortDurationUnits, 0);  // 0: any other bare number is refused
  if (!us || *us > (uint64_t{1} << 62)) return std::nullopt;
  return std::chrono::microseconds(static_cast<int64_t>(*us));
}

bool is_ambiguous_size(std::string_view text) {
  uint64_t number = 0;
  std::string_view suffix;
  if (!split_number(text, number, suffix)) return false;
  return suffix == "KB" || suffix == "kB" || suffix == "kb" || suffix == "MB" || suffix == "mb" ||
         suffix == "GB" || suffix == "gb" || suffix == "Kb" || suffix == "Mb" || suffix == "Gb";
}

std::string format_size(uint64_t bytes) {
  if (bytes != 0) {
    for (auto [suffix, factor] : {std::pair{"GiB", kGiB}, {"MiB", kMiB}, {"KiB", kKiB}})
      if (bytes % factor == 0) return std::to_string(bytes / factor) + suffix;
  }
  return std::to_string(bytes) + "B";
}

std::string format_duration(std::chrono::milliseconds d) {
  const int64_t ms = d.count();
  if (ms != 0) {
    // Minutes and hours read worse than seconds once they are not round:
    // "90s" beats "1m30s", which this syntax cannot express anyway.
    for (auto [suffix, factor] : {std::pair{"h", int64_t{3600000}}, {"m", int64_t{60000}},
                                  {"s", int64_t{1000}}})
      if (ms % factor == 0) return std::to_string(ms / factor) + suffix;
  }
  return std::to_string(ms) + "ms";
}

std::string format_short_duration(std::chrono::microseconds d) {
  const int64_t us = d.count();
  if (us != 0) {
    for (auto [suffix, factor] : {std::pair{"s", int64_t{1000000}}, {"ms", int64_t{1000}}})
      if (us % factor == 0) return std::to_string(us / factor) + suffix;
  }
  return std::to_string(us) + "us";
}

}  // namespace ringway::config::detail
