#include "engine/routing/path.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace ringway::routing {
namespace {

// Normalises `target` and returns the path, failing the test on an error.
std::string norm(std::string_view target) {
  TargetParts parts;
  const char* err = normalize_target(target, parts);
  EXPECT_EQ(err, nullptr) << "target: " << target << " error: " << err;
  return parts.path;
}

// Returns the error reason for `target` ("" if it was accepted).
std::string error_of(std::string_view target) {
  TargetParts parts;
  const char* err = normalize_target(target, parts);
  return err ? err : "";
}

TEST(NormalizeTarget, PlainPathsPassThrough) {
  EXPECT_EQ(norm("/"), "/");
  EXPECT_EQ(norm("/a"), "/a");
  EXPECT_EQ(norm("/a/b/c"), "/a/b/c");
  EXPECT_EQ(norm("/a/b/"), "/a/b/");
  EXPECT_EQ(norm("/a.b/c..d/e."), "/a.b/c..d/e.");
  EXPECT_EQ(norm("/file.tar.gz"), "/file.tar.gz");
  EXPECT_EQ(norm("/a:b@c!$&'()*+,=-_~"), "/a:b@c!$&'()*+,=-_~");  // every pchar but ';'
}

TEST(NormalizeTarget, TraversalIsResolved) {
  EXPECT_EQ(norm("/public/../admin"), "/admin");
  EXPECT_EQ(norm("/public/%2e%2e/admin"), "/admin");
  EXPECT_EQ(norm("/public/%2E%2E/admin"), "/admin");
  EXPECT_EQ(norm("/public/%2E./admin"), "/admin");
  EXPECT_EQ(norm("/public/.%2e/admin"), "/admin");
  EXPECT_EQ(norm("/public/%2e/admin"), "/public/admin");
  EXPECT_EQ(norm("/%2e%2e/admin"), "/admin");
  EXPECT_EQ(norm("/a/./b/../../c"), "/c");
  EXPECT_EQ(norm("/a/b/c/../../d"), "/a/d");
  EXPECT_EQ(norm("/a/b/./c"), "/a/b/c");
}

TEST(NormalizeTarget, NeverAboveRoot) {
  EXPECT_EQ(norm("/.."), "/");
  EXPECT_EQ(norm("/../x"), "/x");
  EXPECT_EQ(norm("/../../../etc/passwd"), "/etc/passwd");
  EXPECT_EQ(norm("/a/../../x"), "/x");
  EXPECT_EQ(norm("/%2e%2e/%2e%2e/x"), "/x");
}

TEST(NormalizeTarget, RepeatedSlashesFold) {
  EXPECT_EQ(norm("//admin"), "/admin");
  EXPECT_EQ(norm("///admin"), "/admin");
  EXPECT_EQ(norm("/a//b///c"), "/a/b/c");
  EXPECT_EQ(norm("//"), "/");
  EXPECT_EQ(norm("/a//"), "/a/");
  EXPECT_EQ(norm("//../admin"), "/admin");
}

TEST(NormalizeTarget, TrailingSlashAndDotSegmentsAtEnd) {
  EXPECT_EQ(norm("/a/"), "/a/");
  EXPECT_EQ(norm("/a/."), "/a/");
  EXPECT_EQ(norm("/a/b/.."), "/a/");
  EXPECT_EQ(norm("/a/b/../"), "/a/");
  EXPECT_EQ(norm("/a/.."), "/");
  EXPECT_EQ(norm("/."), "/");
  EXPECT_EQ(norm("/./"), "/");
  EXPECT_EQ(norm("/a/./"), "/a/");
}

TEST(NormalizeTarget, DotsThatAreNotDotSegments) {
  EXPECT_EQ(norm("/.well-known/acme"), "/.well-known/acme");
  EXPECT_EQ(norm("/.../x"), "/.../x");
  EXPECT_EQ(norm("/..a/x"), "/..a/x");
  EXPECT_EQ(norm("/a./x"), "/a./x");
  EXPECT_EQ(norm("/.hidden"), "/.hidden");
}

TEST(NormalizeTarget, UnreservedEscapesAreDecoded) {
  EXPECT_EQ(norm("/%7Euser"), "/~user");
  EXPECT_EQ(norm("/%7euser"), "/~user");
  EXPECT_EQ(norm("/%41%62%63"), "/Abc");
  EXPECT_EQ(norm("/%30%39"), "/09");
  EXPECT_EQ(norm("/a%2Db%5Fc%2Ed"), "/a-b_c.d");
  // A decoded path that is itself the admin path must route as such.
  EXPECT_EQ(norm("/%61dmin"), "/admin");
}

TEST(NormalizeTarget, ReservedEscapesAreKeptUpperCased) {
  EXPECT_EQ(norm("/a%3Ab"), "/a%3Ab");
  EXPECT_EQ(norm("/a%3ab"), "/a%3Ab");
  EXPECT_EQ(norm("/a%20b"), "/a%20b");
  EXPECT_EQ(norm("/a%3fb"), "/a%3Fb");
  EXPECT_EQ(norm("/%e2%82%ac"), "/%E2%82%AC");
  // No double decoding: %25 stays an escaped '%'.
  EXPECT_EQ(norm("/%252e%252e/admin"), "/%252e%252e/admin");
  EXPECT_EQ(norm("/%252F"), "/%252F");
  // Escaped ';' is data, not a parameter delimiter.
  EXPECT_EQ(norm("/..%3B/x"), "/..%3B/x");
}

TEST(NormalizeTarget, EncodedSeparatorsAndNulRejected) {
  EXPECT_EQ(error_of("/a%2Fb"), "encoded slash in path");
  EXPECT_EQ(error_of("/a%2fb"), "encoded slash in path");
  EXPECT_EQ(error_of("/public/..%2Fadmin"), "encoded slash in path");
  EXPECT_EQ(error_of("/a%5Cb"), "encoded backslash in path");
  EXPECT_EQ(error_of("/a%5cb"), "encoded backslash in path");
  EXPECT_EQ(error_of("/a%00b"), "encoded NUL in path");
}

TEST(NormalizeTarget, RawBadBytesRejected) {
  EXPECT_EQ(error_of("/a\\b"), "backslash in path");
  EXPECT_EQ(error_of("/public\\..\\admin"), "backslash in path");
  EXPECT_EQ(error_of("/a\tb"), "control character in path");
  EXPECT_EQ(error_of("/a\rb"), "control character in path");
  EXPECT_EQ(error_of(std::string_view("/a\0b", 4)), "control character in path");
  EXPECT_EQ(error_of("/a\x7f"), "control character in path");
  EXPECT_EQ(error_of("/caf\xc3\xa9"), "non-ASCII byte in path");
  EXPECT_EQ(error_of("/\xff"), "non-ASCII byte in path");
  EXPECT_EQ(error_of("/a b"), "space in path");
  EXPECT_EQ(error_of("/admin#frag"), "fragment in request-target");
}

TEST(NormalizeTarget, MalformedEscapesRejected) {
  const std::string kReason = "malformed percent-encoding in path";
  EXPECT_EQ(error_of("/%"), kReason);
  EXPECT_EQ(error_of("/%4"), kReason);
  EXPECT_EQ(error_of("/a%4"), kReason);
  EXPECT_EQ(error_of("/%zz"), kReason);
  EXPECT_EQ(error_of("/%4g"), kReason);
  EXPECT_EQ(error_of("/%g4"), kReason);
  EXPECT_EQ(error_of("/%%41"), kReason);
  EXPECT_EQ(error_of("/%4?x=1"), kReason);  // the query does not complete it
}

TEST(NormalizeTarget, PathParametersRejected) {
  // Servlet containers strip ";params" from every segment before routing:
  // "/admin;x/y" is their /admin/y, "/public/..;/admin" their /admin.
  for (const char* target : {"/public/..;/admin", "/public/..;jsessionid=1/admin", "/public/.;/admin",
                             "/public/%2e%2e;/admin", "/admin;x", "/admin;/secret", "/a;v=1/b", "/a/..b;c",
                             "/;"})
    EXPECT_EQ(error_of(target), "semicolon in path") << target;
  // Encoded, it is a literal character of the segment to everyone.
  EXPECT_EQ(norm("/a%3bb"), "/a%3Bb");
  EXPECT_EQ(norm("/a?x=1;y=2"), "/a");
}

TEST(NormalizeTarget, QuerySplitAndUntouched) {
  TargetParts parts;
  ASSERT_EQ(normalize_target("/a/../b?x=%2F..%2f&y=/../z", parts), nullptr);
  EXPECT_EQ(parts.path, "/b");
  EXPECT_EQ(parts.query, "x=%2F..%2f&y=/../z");
  EXPECT_EQ(parts.authority, "");

  ASSERT_EQ(normalize_target("/a?", parts), nullptr);
  EXPECT_EQ(parts.path, "/a");
  EXPECT_EQ(parts.query, "");

  ASSERT_EQ(normalize_target("/a?b?cd\xc3\xa9 \\", parts), nullptr);
  EXPECT_EQ(parts.query, "b?cd\xc3\xa9 \\");

  ASSERT_EQ(normalize_target("/a", parts), nullptr);
  EXPECT_EQ(parts.query, "");
}

TEST(NormalizeTarget, QueryViewsPointIntoTarget) {
  const std::string target = "/p?q=1";
  TargetParts parts;
  ASSERT_EQ(normalize_target(target, parts), nullptr);
  EXPECT_EQ(parts.query.data(), target.data() + 3);
}

TEST(NormalizeTarget, QueryControlCharactersRejected) {
  EXPECT_EQ(error_of("/a?x=\n"), "control character in query");
  EXPECT_EQ(error_of("/a?x=\x7f"), "control character in query");
  EXPECT_EQ(error_of(std::string_view("/a?\0", 4)), "control character in query");
  EXPECT_EQ(error_of("/admin?x#y"), "fragment in request-target");
}

TEST(NormalizeTarget, AbsoluteForm) {
  TargetParts parts;
  ASSERT_EQ(normalize_target("http://example.com/a/../b?q=1", parts), nullptr);
  EXPECT_EQ(parts.authority, "example.com");
  EXPECT_EQ(parts.path, "/b");
  EXPECT_EQ(parts.query, "q=1");

  ASSERT_EQ(normalize_target("https://example.com:8443/x", parts), nullptr);
  EXPECT_EQ(parts.authority, "example.com:8443");
  EXPECT_EQ(parts.path, "/x");

  ASSERT_EQ(normalize_target("HTTP://Example.com", parts), nullptr);
  EXPECT_EQ(parts.authority, "Example.com");
  EXPECT_EQ(parts.path, "/");
  EXPECT_EQ(parts.query, "");

  ASSERT_EQ(normalize_target("http://h?x=1", parts), nullptr);
  EXPECT_EQ(parts.authority, "h");
  EXPECT_EQ(parts.path, "/");
  EXPECT_EQ(parts.query, "x=1");

  ASSERT_EQ(normalize_target("http://[::1]:8080//admin", parts), nullptr);
  EXPECT_EQ(parts.authority, "[::1]:8080");
  EXPECT_EQ(parts.path, "/admin");
}

TEST(NormalizeTarget, AbsoluteFormPathRulesStillApply) {
  EXPECT_EQ(error_of("http://h/a%2Fb"), "encoded slash in path");
  EXPECT_EQ(error_of("http://h/a\\b"), "backslash in path");
  EXPECT_EQ(error_of("http://h#x"), "fragment in request-target");
}

TEST(NormalizeTarget, BadAuthorityRejected) {
  EXPECT_EQ(error_of("http:///a"), "empty authority");
  EXPECT_EQ(error_of("http://"), "empty authority");
  EXPECT_EQ(error_of("http://user@evil.example/"), "userinfo in authority");
  EXPECT_EQ(error_of("http://a b/"), "invalid character in authority");
  EXPECT_EQ(error_of("http://a\\b/"), "invalid character in authority");
  EXPECT_EQ(error_of("http://h\xc3\xa9/"), "invalid character in authority");
}

TEST(CheckHost, ValidHosts) {
  for (const char* h : {"example.com", "Example.COM:8443", "h", "127.0.0.1", "[::1]", "[::1]:80",
                        "[v1.x]", "a_b-c.~d", "h:", "xn--bcher-kva.example", "a%41b", "*.example"})
    EXPECT_EQ(check_host(h), nullptr) << h;
}

TEST(CheckHost, InvalidHosts) {
  EXPECT_STREQ(check_host(""), "empty host");
  EXPECT_STREQ(check_host(":80"), "empty host");
  EXPECT_STREQ(check_host("a b"), "invalid character in host");
  EXPECT_STREQ(check_host("x/y"), "invalid character in host");
  EXPECT_STREQ(check_host("u@h"), "invalid character in host");
  EXPECT_STREQ(check_host("a\\b"), "invalid character in host");
  EXPECT_STREQ(check_host("h\xc3\xa9"), "invalid character in host");
  EXPECT_STREQ(check_host("h\tx"), "invalid character in host");
  EXPECT_STREQ(check_host("h%2"), "invalid percent-encoding in host");
  EXPECT_STREQ(check_host("h%zz"), "invalid percent-encoding in host");
  EXPECT_STREQ(check_host("h:80x"), "invalid port in host");
  EXPECT_STREQ(check_host("h:123456"), "invalid port in host");
  EXPECT_STREQ(check_host("h:65536"), "invalid port in host");
  EXPECT_EQ(check_host("h:65535"), nullptr);
  EXPECT_STREQ(check_host("h:8:8"), "invalid port in host");
  EXPECT_STREQ(check_host("[::1"), "invalid IP literal in host");
  EXPECT_STREQ(check_host("[]"), "invalid IP literal in host");
  EXPECT_STREQ(check_host("[::1 ]"), "invalid IP literal in host");
  EXPECT_STREQ(check_host("[::1]x"), "invalid character in host");
}

TEST(NormalizeTarget, OtherFormsRejected) {
  EXPECT_EQ(error_of(""), "empty request-target");
  EXPECT_EQ(error_of("*"), "asterisk-form request-target");
  EXPECT_EQ(error_of("example.com:443"), "unsupported request-target form");
  EXPECT_EQ(error_of("a/b"), "unsupported request-target form");
  EXPECT_EQ(error_of("http:/x"), "unsupported request-target form");
  EXPECT_EQ(error_of("ftp://example.com/x"), "unsupported scheme in request-target");
  EXPECT_EQ(error_of("httpx://example.com/x"), "unsupported scheme in request-target");
}

TEST(NormalizeTarget, ReusedOutputIsReset) {
  TargetParts parts;
  ASSERT_EQ(normalize_target("http://h/a/b/c/d/e?q", parts), nullptr);
  ASSERT_EQ(normalize_target("/x", parts), nullptr);
  EXPECT_EQ(parts.path, "/x");
  EXPECT_EQ(parts.query, "");
  EXPECT_EQ(parts.authority, "");
  ASSERT_EQ(normalize_target("/y/../%7e", parts), nullptr);
  EXPECT_EQ(parts.path, "/~");
}

// The result is a fixed point: normalising a normalised path changes nothing,
// so a rule written against the normalised form matches however it was sent.
TEST(NormalizeTarget, Idempotent) {
  const char* inputs[] = {
      "/",          "/a/b/",         "/public/%2e%2e/admin", "//a//b/./../c/",
      "/%7e%3a%41", "/a/%2e/b/%2E.", "/.../..../x/..",       "/a%20b/%E2%82%ac/",
  };
  for (const char* in : inputs) {
    const std::string once = norm(in);
    EXPECT_EQ(norm(once), once) << in;
    EXPECT_EQ(once.find("//"), std::string::npos) << in;
    EXPECT_EQ(once.find("/./"), std::string::npos) << in;
    EXPECT_EQ(once.find("/../"), std::string::npos) << in;
  }
}

TEST(NormalizeTarget, LongPathWithManySegments) {
  std::string target;
  for (int i = 0; i < 1000; ++i) target += "/seg" + std::to_string(i);
  for (int i = 0; i < 999; ++i) target += "/..";
  EXPECT_EQ(norm(target), "/seg0/");  // a final ".." leaves a trailing slash
  std::string up;
  for (int i = 0; i < 5000; ++i) up += "/..";
  EXPECT_EQ(norm(up + "/x"), "/x");
}

}  // namespace
}  // namespace ringway::routing
