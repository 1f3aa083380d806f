#include "filters/cache/vary.h"

#include <gtest/gtest.h>

#include "headers.h"

namespace ringway::filters::cache {
namespace {

using testing::headers;

TEST(Vary, NamesAreLowerCasedAndDeduplicated) {
  auto names = vary_names(headers({{"Vary", "Accept-Encoding, accept-language"}, {"vary", "ACCEPT-ENCODING,Origin"}}));
  EXPECT_EQ(names, (std::vector<std::string>{"accept-encoding", "accept-language", "origin"}));
  EXPECT_TRUE(vary_names(headers({{"Content-Type", "x"}})).empty());
}

TEST(AcceptEncoding, NormalisedToASortedSetOfAcceptedCodings) {
  EXPECT_EQ(normalize_accept_encoding("gzip, deflate, br"), "br,deflate,gzip");
  EXPECT_EQ(normalize_accept_encoding("br,gzip;q=0.8, deflate"), "br,deflate,gzip");
  EXPECT_EQ(normalize_accept_encoding("GZIP"), "gzip");
  EXPECT_EQ(normalize_accept_encoding("x-gzip"), "gzip");
  EXPECT_EQ(normalize_accept_encoding("gzip, gzip;q=0.5"), "gzip");
  EXPECT_EQ(normalize_accept_encoding(""), "");
}

TEST(AcceptEncoding, ZeroWeightMeansNotAcceptable) {
  EXPECT_EQ(normalize_accept_encoding("gzip;q=0, br"), "!gzip,br");
  EXPECT_EQ(normalize_accept_encoding("gzip; q=0.000"), "!gzip");
  EXPECT_EQ(normalize_accept_encoding("gzip;q=0.001"), "gzip");
  EXPECT_EQ(normalize_accept_encoding("identity;q=0, *"), "!identity,*");
}

TEST(Vary, AbsentOnlyMatchesAbsent) {
  std::vector<std::string> names{"accept-encoding"};
  auto absent = secondary_key(headers({}), names);
  auto empty = secondary_key(headers({{"Accept-Encoding", ""}}), names);
  EXPECT_NE(absent, empty);
  EXPECT_EQ(absent, secondary_key(headers({{"Other", "x"}}), names));
}

TEST(Vary, EquivalentRequestsShareAKey) {
  std::vector<std::string> names{"accept-encoding", "accept-language"};
  auto a = secondary_key(headers({{"Accept-Encoding", "gzip, br"}, {"Accept-Language", "en-US, fr"}}), names);
  auto b = secondary_key(headers({{"accept-language", "EN-us,fr"}, {"ACCEPT-ENCODING", "br,gzip"}}), names);
  EXPECT_EQ(a, b);
  auto c = secondary_key(headers({{"Accept-Encoding", "gzip"}, {"Accept-Language", "en-US, fr"}}), names);
  EXPECT_NE(a, c);
}

TEST(Vary, MultipleLinesAreCombined) {
  std::vector<std::string> names{"accept"};
  EXPECT_EQ(secondary_key(headers({{"Accept", "text/html"}, {"Accept", "application/json"}}), names),
            secondary_key(headers({{"Accept", "text/html, application/json"}}), names));
}

TEST(Vary, OtherFieldsAreComparedAsSent) {
  std::vector<std::string> names{"x-tenant"};
  EXPECT_NE(secondary_key(headers({{"X-Tenant", "A"}}), names), secondary_key(headers({{"X-Tenant", "a"}}), names));
  EXPECT_EQ(secondary_key(headers({{"X-Tenant", "a"}}), names), secondary_key(headers({{"x-tenant", "a"}}), names));
}

TEST(Vary, NoNamesIsTheEmptyKey) {
  EXPECT_EQ(secondary_key(headers({{"Accept", "x"}}), {}), "");
}

}  // namespace
}  // namespace ringway::filters::cache
