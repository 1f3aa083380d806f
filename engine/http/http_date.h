#pragma once
// HTTP-date (RFC 9110 5.6.7): formatting as IMF-fixdate, parsing of all three
// forms a recipient must accept:
//   IMF-fixdate   Sun, 06 Nov 1994 08:49:37 GMT
//   rfc850-date   Sunday, 06-Nov-94 08:49:37 GMT     (obsolete)
//   asctime-date  Sun Nov  6 08:49:37 1994           (obsolete)
// Names are matched case-sensitively (HTTP-date is case-sensitive). The day
// name is checked against the list of names but not against the date: a
// wrong weekday is a sender bug that changes nothing about the instant.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringway::http {

// Seconds since the Unix epoch, or nullopt when `text` is not an HTTP-date.
// `now_unix` resolves the two-digit year of rfc850-date: a date more than 50
// years in the future is taken to be in the past century (RFC 9110 5.6.7).
std::optional<int64_t> parse_http_date(std::string_view text, int64_t now_unix);

// IMF-fixdate for a Unix time (0 <= t < year 10000).
std::string format_http_date(int64_t unix_seconds);

// Days since 1970-01-01 for a proleptic Gregorian date (month 1..12).
int64_t days_from_civil(int64_t year, unsigned month, unsigned day);

}  // namespace ringway::http
