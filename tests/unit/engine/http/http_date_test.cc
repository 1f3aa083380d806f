#include "engine/http/http_date.h"

#include <gtest/gtest.h>

namespace ringway::http {
namespace {

constexpr int64_t kNov6_1994 = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
constexpr int64_t kNow2024 = 1718000000;   // June 2024

TEST(HttpDate, ThreeFormsOfRfc9110) {
  // The examples of RFC 9110 5.6.7, all the same instant.
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", kNow2024), kNov6_1994);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", kNow2024), kNov6_1994);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994", kNow2024), kNov6_1994);
}

TEST(HttpDate, Epoch) {
  EXPECT_EQ(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT", kNow2024), 0);
}

TEST(HttpDate, Rfc850TwoDigitYears) {
  // More than 50 years ahead means the previous century.
  EXPECT_EQ(parse_http_date("Monday, 01-Jan-24 00:00:00 GMT", kNow2024), 1704067200);
  // 2070 is 46 years ahead of 2024: not more than 50, so it stays 2070.
  EXPECT_EQ(parse_http_date("Wednesday, 01-Jan-70 00:00:00 GMT", kNow2024), 3155760000);
  // 2094 would be 70 years ahead: 1994.
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", kNow2024), kNov6_1994);
}

TEST(HttpDate, AsctimeTwoDigitDay) {
  EXPECT_EQ(parse_http_date("Sun Nov 16 08:49:37 1994", kNow2024), kNov6_1994 + 10 * 86400);
}

TEST(HttpDate, LeapYears) {
  EXPECT_TRUE(parse_http_date("Thu, 29 Feb 2024 12:00:00 GMT", kNow2024).has_value());
  EXPECT_FALSE(parse_http_date("Wed, 29 Feb 2023 12:00:00 GMT", kNow2024).has_value());
  EXPECT_TRUE(parse_http_date("Tue, 29 Feb 2000 12:00:00 GMT", kNow2024).has_value());
  EXPECT_FALSE(parse_http_date("Thu, 29 Feb 1900 12:00:00 GMT", kNow2024).has_value());
}

TEST(HttpDate, Invalid) {
  for (std::string_view s : {"", "0", "-1", "tomorrow", "Sun, 06 Nov 1994 08:49:37 UTC",
                             "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 nov 1994 08:49:37 GMT",
                             "sun, 06 Nov 1994 08:49:37 GMT", "Sun, 32 Nov 1994 08:49:37 GMT",
                             "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:49:37 GMT ",
                             "Sun, 06 Nov 1994 08:49 GMT", "Sun, 31 Apr 1994 08:49:37 GMT",
                             "Sunday, 06-Nov-1994 08:49:37 GMT", "Sun Nov 6 08:49:37 1994"}) {
    EXPECT_FALSE(parse_http_date(s, kNow2024).has_value()) << s;
  }
}

TEST(HttpDate, LeapSecondCountsAsFiftyNine) {
  EXPECT_EQ(parse_http_date("Sat, 31 Dec 2016 23:59:60 GMT", kNow2024),
            parse_http_date("Sat, 31 Dec 2016 23:59:59 GMT", kNow2024));
}

TEST(HttpDate, FormatIsImfFixdate) {
  EXPECT_EQ(format_http_date(kNov6_1994), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(format_http_date(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
}

TEST(HttpDate, RoundTrip) {
  for (int64_t t = 0; t < 4102444800; t += 86400 * 37 + 3671) {
    auto parsed = parse_http_date(format_http_date(t), kNow2024);
    ASSERT_TRUE(parsed.has_value()) << format_http_date(t);
    EXPECT_EQ(*parsed, t);
  }
}

}  // namespace
}  // namespace ringway::http
