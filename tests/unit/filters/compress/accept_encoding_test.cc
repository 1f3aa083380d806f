// Accept-Encoding negotiation (RFC 9110 12.5.3): which header values let the
// compress filter send gzip.

#include "filters/compress/accept_encoding.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ringway::filters::compress {
namespace {

struct Case {
  const char* value;
  bool gzip;
};

bool accepts(const char* value) {
  http::HeaderList headers;
  headers.push_back({"Accept-Encoding", value});
  return client_accepts_gzip(headers);
}

TEST(AcceptEncoding, Table) {
  const Case cases[] = {
      // Plain listings.
      {"gzip", true},
      {"GZIP", true},
      {"x-gzip", true},
      {"X-Gzip", true},
      {"gzip, deflate, br, zstd", true},  // browsers
      {"deflate, gzip, br, zstd", true},  // curl --compressed
      {"br", false},
      {"deflate", false},
      {"br, zstd", false},
      {"identity", false},
      {"", false},  // only identity is acceptable
      // Weights.
      {"gzip;q=1", true},
      {"gzip;q=1.0", true},
      {"gzip;q=1.000", true},
      {"gzip;q=0.5", true},
      {"gzip;q=0.001", true},
      {"gzip;q=0", false},
      {"gzip;q=0.", false},
      {"gzip;q=0.000", false},
      {"gzip;Q=0.8", true},
      {"gzip ; q=0.8", true},
      {"gzip;\tq=0.8", true},
      {"br;q=1.0, gzip;q=0.8, *;q=0.1", true},
      {"gzip;q=0, x-gzip", true},      // the higher weight of the alias wins
      {"gzip, gzip;q=0", false},       // a name twice: its lower weight
      {"gzip;q=0, gzip", false},
      {"gzip;q=0.5, gzip;q=0.8", true},
      // The wildcard.
      {"*", true},
      {"*;q=0.5", true},
      {"*;q=0", false},
      {"br, *;q=0", false},
      {"gzip;q=0, *", false},   // gzip's own entry beats "*"
      {"gzip, *;q=0", true},
      // Identity ranked against gzip.
      {"gzip, identity;q=0", true},  // gzip is the only acceptable coding
      {"identity;q=0", false},       // nothing acceptable: pass through, no 406
      {"gzip;q=0, identity;q=0", false},
      {"gzip;q=0.5, identity", false},       // identity preferred
      {"gzip;q=0.5, identity;q=0.5", true},  // a tie goes to gzip
      {"gzip;q=0.5, identity;q=0.4", true},
      {"gzip;q=0.5, *", false},              // "*" ranks identity above gzip
      {"gzip;q=0.5, *;q=0.2", true},
      {"gzip;q=0.001, br", true},            // unranked identity does not win
      // List syntax.
      {" gzip ", true},
      {",gzip", true},
      {"gzip,", true},
      {", , gzip , ,", true},
      {"br,gzip", true},
      // Malformed: no compression.
      {"gzip;q=1.5", false},
      {"gzip;q=2", false},
      {"gzip;q=1.001", false},
      {"gzip;q=0.1234", false},
      {"gzip;q=-1", false},
      {"gzip;q=.5", false},
      {"gzip;q=", false},
      {"gzip;q", false},
      {"gzip;q = 0.5", false},
      {"gzip;", false},
      {"gzip;level=5", false},
      {"gzip;q=0.5;q=0.4", false},
      {"gzip;q=\"0.5\"", false},
      {"gzip deflate", false},
      {"gzip/1", false},
      {"gzip, br;q=x", false},  // one bad element spoils the header
      {";q=1", false},
      {"\"gzip\"", false},
  };
  for (const Case& c : cases) EXPECT_EQ(accepts(c.value), c.gzip) << "Accept-Encoding: " << c.value;
}

TEST(AcceptEncoding, NoHeaderMeansNoGzip) {
  http::HeaderList headers;
  headers.push_back({"Accept", "*/*"});
  EXPECT_FALSE(client_accepts_gzip(headers));
}

TEST(AcceptEncoding, SeveralLinesFormOneList) {
  http::HeaderList headers;
  headers.push_back({"Accept-Encoding", "br"});
  headers.push_back({"accept-encoding", "gzip"});
  EXPECT_TRUE(client_accepts_gzip(headers));

  http::HeaderList excluded;
  excluded.push_back({"Accept-Encoding", "gzip"});
  excluded.push_back({"Accept-Encoding", "gzip;q=0"});
  EXPECT_FALSE(client_accepts_gzip(excluded));  // a name twice: its lower weight

  http::HeaderList bad;
  bad.push_back({"Accept-Encoding", "gzip"});
  bad.push_back({"Accept-Encoding", "gzip;q=9"});
  EXPECT_FALSE(client_accepts_gzip(bad));
}

TEST(AcceptEncoding, Weights) {
  AcceptEncoding a;
  ASSERT_TRUE(parse_accept_encoding("gzip;q=0.25, identity;q=0.5, *;q=0", a));
  EXPECT_EQ(a.gzip, 250);
  EXPECT_EQ(a.identity, 500);
  EXPECT_EQ(a.any, 0);
  EXPECT_EQ(a.gzip_weight(), 250);
  EXPECT_FALSE(a.prefers_gzip());

  AcceptEncoding star;
  ASSERT_TRUE(parse_accept_encoding("*;q=0.7", star));
  EXPECT_EQ(star.gzip, kUnlisted);
  EXPECT_EQ(star.gzip_weight(), 700);
  EXPECT_TRUE(star.prefers_gzip());
}

}  // namespace
}  // namespace ringway::filters::compress
