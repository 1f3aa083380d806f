#include "engine/http/field_value.h"

#include <gtest/gtest.h>

namespace ringway::http {
namespace {

TEST(ParseDigits, DigitsOnly) {
  EXPECT_EQ(parse_digits("0"), 0);
  EXPECT_EQ(parse_digits("007"), 7);
  EXPECT_EQ(parse_digits("123456789012345678"), 123456789012345678);
  for (std::string_view bad : {"", " 1", "1 ", "+1", "-1", "1.0", "0x1", "1,2", "1234567890123456789"})
    EXPECT_EQ(parse_digits(bad), -1) << bad;
}

}  // namespace
}  // namespace ringway::http
