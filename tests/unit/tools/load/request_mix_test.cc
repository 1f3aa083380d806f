#include "tools/load/request_mix.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace ringway::load {
namespace {

RequestSpec parse_ok(const std::string& line) {
  RequestSpec spec;
  std::string error;
  EXPECT_TRUE(parse_request_line(line, "", spec, error)) << line << ": " << error;
  return spec;
}

std::string parse_error(const std::string& line) {
  RequestSpec spec;
  std::string error;
  EXPECT_FALSE(parse_request_line(line, "", spec, error)) << line;
  return error;
}

TEST(load_request_mix, MethodAndPath) {
  RequestSpec s = parse_ok("GET /");
  EXPECT_EQ(s.method, "GET");
  EXPECT_EQ(s.target, "/");
  EXPECT_TRUE(s.headers.empty());
  EXPECT_FALSE(s.has_body);
  s = parse_ok("  DELETE\t/items/7?force=1  ");
  EXPECT_EQ(s.method, "DELETE");
  EXPECT_EQ(s.target, "/items/7?force=1");
}

TEST(load_request_mix, HeadersInBothSpellings) {
  RequestSpec s = parse_ok("GET /a Accept: text/plain X-One:1 X-Note: \"two words\" X-Empty:");
  ASSERT_EQ(s.headers.size(), 4u);
  EXPECT_EQ(s.headers[0].name, "Accept");
  EXPECT_EQ(s.headers[0].value, "text/plain");
  EXPECT_EQ(s.headers[1].name, "X-One");
  EXPECT_EQ(s.headers[1].value, "1");
  EXPECT_EQ(s.headers[2].value, "two words");
  EXPECT_EQ(s.headers[3].name, "X-Empty");
  EXPECT_EQ(s.headers[3].value, "");
}

TEST(load_request_mix, InlineBodyWithQuotesAndEscapes) {
  RequestSpec s = parse_ok(R"(POST /echo Content-Type: text/plain body="hello \"world\"\n")");
  EXPECT_TRUE(s.has_body);
  EXPECT_EQ(s.body, "hello \"world\"\n");
  ASSERT_EQ(s.headers.size(), 1u);
  s = parse_ok("PUT /x body=plain");
  EXPECT_EQ(s.body, "plain");
  s = parse_ok("POST /x body=");
  EXPECT_TRUE(s.has_body);
  EXPECT_EQ(s.body, "");
}

TEST(load_request_mix, BodyFromFileRelativeToRequestFile) {
  char dir[] = "/tmp/ringway-load-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string body_path = std::string(dir) + "/body.json";
  const std::string req_path = std::string(dir) + "/requests.txt";
  std::ofstream(body_path) << "{\"k\": 1}";
  std::ofstream(req_path) << "# a comment\n\nPOST /sink @body.json\nGET /\n";
  std::vector<RequestSpec> mix;
  std::string error;
  ASSERT_TRUE(load_request_file(req_path, mix, error)) << error;
  ASSERT_EQ(mix.size(), 2u);
  EXPECT_EQ(mix[0].body, "{\"k\": 1}");
  EXPECT_EQ(mix[1].target, "/");
  std::remove(body_path.c_str());
  std::remove(req_path.c_str());
  rmdir(dir);
}

TEST(load_request_mix, BadLines) {
  EXPECT_NE(parse_error("GET").find("expected"), std::string::npos);
  EXPECT_NE(parse_error("G(T /").find("bad method"), std::string::npos);
  EXPECT_NE(parse_error("GET noslash").find("bad path"), std::string::npos);
  EXPECT_NE(parse_error("GET / junk").find("got 'junk'"), std::string::npos);
  EXPECT_NE(parse_error("GET / :novalue").find("expected"), std::string::npos);
  EXPECT_NE(parse_error("GET / Bad(Name): x").find("bad header name"), std::string::npos);
  EXPECT_NE(parse_error("POST / body=a body=b").find("more than one body"), std::string::npos);
  EXPECT_NE(parse_error("POST / body=\"open").find("unterminated"), std::string::npos);
  EXPECT_NE(parse_error("POST / Content-Length: 3 body=abc").find("set by the tool"),
            std::string::npos);
  EXPECT_NE(parse_error("POST / @/nonexistent/file").find("cannot read body file"),
            std::string::npos);
  EXPECT_NE(parse_error("GET / X-A: \"\\q\"").find("unknown escape"), std::string::npos);
}

TEST(load_request_mix, ErrorsNameFileAndLine) {
  std::vector<RequestSpec> mix;
  std::string error;
  EXPECT_FALSE(parse_request_text("GET /\n# fine\nGET nope\n", "mix.txt", "", mix, error));
  EXPECT_EQ(error.rfind("mix.txt:3: ", 0), 0u) << error;
  EXPECT_FALSE(parse_request_text("\n\nGET / X\n", "m", "", mix, error));
  EXPECT_EQ(error.rfind("m:3: ", 0), 0u) << error;
  EXPECT_FALSE(parse_request_text("# only comments\n\n", "empty.txt", "", mix, error));
  EXPECT_NE(error.find("no requests"), std::string::npos);
  EXPECT_FALSE(load_request_file("/nonexistent/requests.txt", mix, error));
  EXPECT_NE(error.find("cannot read request file"), std::string::npos);
}

TEST(load_request_mix, CrLfLinesAccepted) {
  std::vector<RequestSpec> mix;
  std::string error;
  ASSERT_TRUE(parse_request_text("GET /a\r\nGET /b X: y\r\n", "f", "", mix, error)) << error;
  ASSERT_EQ(mix.size(), 2u);
  EXPECT_EQ(mix[1].headers[0].value, "y");
}

TEST(load_request_mix, RenderDefaultGet) {
  RequestSpec s;
  s.target = "/path?q=1";
  EXPECT_EQ(render_request(s, "127.0.0.1:8080", {}),
            "GET /path?q=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");
}

TEST(load_request_mix, RenderHeadersAndBody) {
  RequestSpec s = parse_ok("POST /echo X-Line: 1 Accept: a body=hi");
  const std::vector<Header> extra = {{"Accept", "b"}, {"X-Extra", "2"}};
  // -H headers come first unless the line sets the same name.
  EXPECT_EQ(render_request(s, "h", extra),
            "POST /echo HTTP/1.1\r\nHost: h\r\nX-Extra: 2\r\nX-Line: 1\r\nAccept: a\r\n"
            "Content-Length: 2\r\n\r\nhi");
}

TEST(load_request_mix, RenderHostOverride) {
  RequestSpec s = parse_ok("GET / host: example.test");
  EXPECT_EQ(render_request(s, "127.0.0.1", {}), "GET / HTTP/1.1\r\nhost: example.test\r\n\r\n");
  RequestSpec plain = parse_ok("GET /");
  EXPECT_EQ(render_request(plain, "127.0.0.1", {{"Host", "via-flag"}}),
            "GET / HTTP/1.1\r\nHost: via-flag\r\n\r\n");
}

TEST(load_request_mix, HeaderArgument) {
  Header h;
  std::string error;
  ASSERT_TRUE(parse_header_arg("X-Token:  abc def ", h, error)) << error;
  EXPECT_EQ(h.name, "X-Token");
  EXPECT_EQ(h.value, "abc def");
  EXPECT_FALSE(parse_header_arg("no colon", h, error));
  EXPECT_FALSE(parse_header_arg(": empty name", h, error));
  EXPECT_FALSE(parse_header_arg("Transfer-Encoding: chunked", h, error));
}

}  // namespace
}  // namespace ringway::load
