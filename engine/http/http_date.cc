#include "engine/http/http_date.h"

#include <array>
#include <cstdio>

namespace ringway::http {
namespace {

constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> kLongDays = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                       "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// A cursor over the text; every reader fails without moving on a mismatch.
struct Reader {
  std::string_view s;

  bool literal(std::string_view lit) {
    if (!s.starts_with(lit)) return false;
    s.remove_prefix(lit.size());
    return true;
  }
  // Exactly `n` digits.
  bool digits(size_t n, int& out) {
    if (s.size() < n) return false;
    int v = 0;
    for (size_t i = 0; i < n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    out = v;
    s.remove_prefix(n);
    return true;
  }
  template <size_t N>
  bool name(const std::array<std::string_view, N>& names, int& index) {
    for (size_t i = 0; i < N; ++i) {
      if (literal(names[i])) {
        index = static_cast<int>(i);
        return true;
      }
    }
    return false;
  }
  // "HH:MM:SS"
  bool time_of_day(int& h, int& m, int& sec) {
    return digits(2, h) && literal(":") && digits(2, m) && literal(":") && digits(2, sec);
  }
};

int days_in_month(int year, int month) {
  static constexpr int kLen[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kLen[month - 1];
}

std::optional<int64_t> to_unix(int year, int month0, int day, int h, int m, int sec) {
  int month = month0 + 1;
  if (day < 1 || day > days_in_month(year, month)) return std::nullopt;
  // 60 is allowed for a leap second (RFC 9110 5.6.7 grammar); it counts as :59.
  if (h > 23 || m > 59 || sec > 60) return std::nullopt;
  if (sec == 60) sec = 59;
  int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return days * 86400 + h * 3600 + m * 60 + sec;
}

std::optional<int64_t> parse_imf(Reader r) {
  int wd, day, mon, year, h, m, s;
  if (!r.name(kDays, wd) || !r.literal(", ") || !r.digits(2, day) || !r.literal(" ") ||
      !r.name(kMonths, mon) || !r.literal(" ") || !r.digits(4, year) || !r.literal(" ") ||
      !r.time_of_day(h, m, s) || !r.literal(" GMT") || !r.s.empty())
    return std::nullopt;
  return to_unix(year, mon, day, h, m, s);
}

std::optional<int64_t> parse_rfc850(Reader r, int64_t now_unix) {
  int wd, day, mon, yy, h, m, s;
  if (!r.name(kLongDays, wd) || !r.literal(", ") || !r.digits(2, day) || !r.literal("-") ||
      !r.name(kMonths, mon) || !r.literal("-") || !r.digits(2, yy) || !r.literal(" ") ||
      !r.time_of_day(h, m, s) || !r.literal(" GMT") || !r.s.empty())
    return std::nullopt;
  // The year in the current century, unless that is more than 50 years ahead.
  int64_t now_year = 1970 + now_unix / 31556952;  // mean Gregorian year; close enough here
  int year = static_cast<int>(now_year - now_year % 100) + yy;
  if (year > now_year + 50) year -= 100;
  return to_unix(year, mon, day, h, m, s);
}

std::optional<int64_t> parse_asctime(Reader r) {
  int wd, mon, day, year, h, m, s;
  if (!r.name(kDays, wd) || !r.literal(" ") || !r.name(kMonths, mon) || !r.literal(" ")) return std::nullopt;
  // day = 2DIGIT / ( SP DIGIT )
  if (r.literal(" ")) {
    if (!r.digits(1, day)) return std::nullopt;
  } else if (!r.digits(2, day)) {
    return std::nullopt;
  }
  if (!r.literal(" ") || !r.time_of_day(h, m, s) || !r.literal(" ") || !r.digits(4, year) || !r.s.empty())
    return std::nullopt;
  return to_unix(year, mon, day, h, m, s);
}

}  // namespace

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  // Howard Hinnant's algorithm: exact for the proleptic Gregorian calendar.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::optional<int64_t> parse_http_date(std::string_view text, int64_t now_unix) {
  Reader r{text};
  if (text.size() == 29) return parse_imf(r);
  if (text.size() == 24) return parse_asctime(r);
  return parse_rfc850(r, now_unix);
}

std::string format_http_date(int64_t t) {
  if (t < 0) t = 0;
  int64_t days = t / 86400, secs = t % 86400;
  // civil_from_days (Hinnant).
  int64_t z = days + 719468;
  const int64_t era = z / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  // 1970-01-01 was a Thursday (index 3 with Monday = 0).
  int weekday = static_cast<int>((days + 3) % 7);
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "%s, %02u %s %04lld %02d:%02d:%02d GMT",
                        kDays[static_cast<size_t>(weekday)].data(), d, kMonths[m - 1].data(),
                        static_cast<long long>(y), static_cast<int>(secs / 3600),
                        static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace ringway::http
