#include "engine/http/head_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace ringway::http {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// Splits a serialised head into its lines (without CRLF). The head must end in
// an empty line; the body after it is returned in *body.
std::vector<std::string> lines_of(const std::string& head, std::string* body = nullptr) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    size_t eol = head.find("\r\n", pos);
    EXPECT_NE(eol, std::string::npos) << "unterminated head: " << head;
    if (eol == std::string::npos) break;
    if (eol == pos) {
      if (body) *body = head.substr(eol + 2);
      else EXPECT_EQ(eol + 2, head.size()) << "bytes after the head";
      break;
    }
    out.push_back(head.substr(pos, eol - pos));
    pos = eol + 2;
  }
  return out;
}

RequestHead make_head(std::vector<Header> headers, std::string_view method = "GET") {
  RequestHead h;
  h.method = method;
  h.target = "/orig?q";
  h.path = "/orig";
  h.query = "q";
  h.host = "client.example";
  for (auto& x : headers) h.headers.push_back(x);
  return h;
}

UpstreamRequest basic_req() {
  UpstreamRequest r;
  r.path = "/rewritten";
  r.query = "a=1";
  r.host = "upstream.internal";
  r.client_addr = "192.0.2.7";
  return r;
}

// As the proxy does: the headers the client's Connection names, and its
// forwarding claims, go first.
std::string upstream(RequestHead head, const UpstreamRequest& req) {
  ConnectionTokens conn;
  conn.parse(head.headers);
  conn.remove_named(head.headers);
  drop_client_forwarding(head.headers);
  std::string out;
  write_upstream_request(head, req, out);
  return out;
}

// ---------------------------------------------------------------------------
// write_upstream_request

TEST(WriteUpstreamRequest, ExactBytesForASimpleRequest) {
  RequestHead head = make_head({{"Host", "client.example"}, {"Accept", "*/*"}});
  EXPECT_EQ(upstream(head, basic_req()),
            "GET /rewritten?a=1 HTTP/1.1\r\n"
            "Host: upstream.internal\r\n"
            "Accept: */*\r\n"
            "X-Forwarded-For: 192.0.2.7\r\n"
            "X-Forwarded-Proto: http\r\n"
            "X-Forwarded-Host: client.example\r\n"
            "Via: 1.1 ringway\r\n"
            "\r\n");
}

TEST(WriteUpstreamRequest, AppendsToExistingOutput) {
  RequestHead head = make_head({});
  std::string out = "PREVIOUS";
  write_upstream_request(head, basic_req(), out);
  EXPECT_EQ(out.rfind("PREVIOUSGET /rewritten?a=1 HTTP/1.1\r\n", 0), 0u);
}

TEST(WriteUpstreamRequest, NoQueryNoQuestionMark) {
  UpstreamRequest req = basic_req();
  req.query = {};
  EXPECT_EQ(lines_of(upstream(make_head({}), req))[0], "GET /rewritten HTTP/1.1");
}

TEST(WriteUpstreamRequest, HopByHopAndConnectionNamedHeadersRemoved) {
  RequestHead head = make_head({
      {"Host", "client.example"},
      {"Connection", "keep-alive, X-Secret, x-other"},
      {"Keep-Alive", "timeout=5"},
      {"TE", "trailers"},
      {"Trailer", "X-Checksum"},
      {"Upgrade", "websocket"},
      {"Proxy-Authorization", "Basic abc"},
      {"proxy-connection", "keep-alive"},
      {"Transfer-Encoding", "chunked"},
      {"Content-Length", "12"},
      {"X-Secret", "1"},
      {"X-OTHER", "2"},
      {"X-Kept", "3"},
      {"Expect", "100-continue"},
  });
  std::vector<std::string> lines = lines_of(upstream(head, basic_req()));
  EXPECT_THAT(lines, ElementsAre("GET /rewritten?a=1 HTTP/1.1", "Host: upstream.internal",
                                 "X-Kept: 3", "X-Forwarded-For: 192.0.2.7",
                                 "X-Forwarded-Proto: http", "X-Forwarded-Host: client.example",
                                 "Via: 1.1 ringway"));
}

TEST(WriteUpstreamRequest, AWebSocketHandshakeGetsTheGatewaysOwnUpgrade) {
  // The client's Upgrade and Connection go like any hop-by-hop fields; the
  // handshake's own fields stay.
  RequestHead head = make_head({{"Connection", "Upgrade, X-Hop"}, {"Upgrade", "websocket, h2c"},
                                {"X-Hop", "1"}, {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}});
  UpstreamRequest req = basic_req();
  req.upgrade = true;
  EXPECT_THAT(lines_of(upstream(head, req)),
              ElementsAre("GET /rewritten?a=1 HTTP/1.1", "Host: upstream.internal",
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "X-Forwarded-For: 192.0.2.7",
                          "X-Forwarded-Proto: http", "X-Forwarded-Host: client.example",
                          "Via: 1.1 ringway", "Connection: upgrade", "Upgrade: websocket"));
}

TEST(WriteUpstreamRequest, EveryHeaderConnectionNamesIsRemovedHoweverMany) {
  // 40 names, in mixed case, over two Connection fields: past the length at
  // which the list is sorted and searched instead of scanned.
  std::vector<std::string> names;
  for (int i = 0; i < 40; ++i) names.push_back((i % 2 ? "X-Hop-" : "x-HOP-") + std::to_string(i));
  std::string first, second;
  for (int i = 0; i < 40; ++i) (i < 20 ? first : second) += names[i] + ", ";
  std::vector<Header> fields = {{"Connection", first}, {"Connection", second}};
  for (int i = 39; i >= 0; --i) fields.push_back({names[i], "v"});
  fields.push_back({"X-Hop-40", "kept"});
  fields.push_back({"X-Hop", "kept"});
  RequestHead head = make_head(fields);
  std::string out = upstream(head, basic_req());
  for (int i = 0; i < 40; ++i) EXPECT_THAT(out, Not(HasSubstr(names[i] + ":"))) << names[i];
  EXPECT_THAT(out, HasSubstr("X-Hop-40: kept\r\n"));
  EXPECT_THAT(out, HasSubstr("X-Hop: kept\r\n"));
}

TEST(WriteUpstreamRequest, HostIsReplacedNotDuplicated) {
  RequestHead head = make_head({{"host", "evil.example"}, {"HOST", "evil2.example"}});
  std::string out = upstream(head, basic_req());
  EXPECT_THAT(out, HasSubstr("Host: upstream.internal\r\n"));
  EXPECT_THAT(out, Not(HasSubstr("evil.example\r\n")));
  EXPECT_THAT(out, Not(HasSubstr("evil2")));
}

TEST(WriteUpstreamRequest, ForwardedForIsAppendedToTheClientsList) {
  RequestHead head = make_head({{"X-Forwarded-For", "198.51.100.1, 203.0.113.9"}});
  std::vector<std::string> lines = lines_of(upstream(head, basic_req()));
  EXPECT_THAT(lines, ::testing::Contains("X-Forwarded-For: 198.51.100.1, 203.0.113.9, 192.0.2.7"));
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                          [](const std::string& l) { return l.rfind("X-Forwarded-For", 0) == 0; }),
            1);
}

TEST(WriteUpstreamRequest, ForwardedProtoAndHostAreReplaced) {
  RequestHead head = make_head(
      {{"X-Forwarded-Proto", "https"}, {"x-forwarded-host", "spoofed.example"}});
  std::string out = upstream(head, basic_req());
  EXPECT_THAT(out, HasSubstr("X-Forwarded-Proto: http\r\n"));
  EXPECT_THAT(out, Not(HasSubstr("https")));
  EXPECT_THAT(out, HasSubstr("X-Forwarded-Host: client.example\r\n"));
  EXPECT_THAT(out, Not(HasSubstr("spoofed")));
}

TEST(WriteUpstreamRequest, PathOverridesAreDropped) {
  // Symfony, IIS and Spring can route by these instead of the request line:
  // /public authorised at the gateway, /admin served.
  RequestHead head = make_head({{"X-Original-URL", "/admin"}, {"x_rewrite_url", "/admin"},
                                {"X-Forwarded-Prefix", "/admin"}, {"X-Kept", "1"}});
  std::string out = upstream(head, basic_req());
  EXPECT_THAT(out, Not(HasSubstr("admin")));
  EXPECT_THAT(out, HasSubstr("X-Kept: 1\r\n"));
}

TEST(WriteUpstreamRequest, ForgedForwardingHeadersUnderOtherNamesAreDropped) {
  // CGI-style upstreams read X_Forwarded_For as X-Forwarded-For; RFC 7239
  // Forwarded from a client would contradict what the gateway states.
  RequestHead head = make_head({{"X_Forwarded_For", "6.6.6.6"},
                                {"x_forwarded-proto", "https"},
                                {"X-Forwarded_Host", "spoofed.example"},
                                {"Forwarded", "for=6.6.6.6;proto=https;host=spoofed.example"},
                                {"X-Forwarded-Port", "443"}, {"X-Kept", "1"}});
  std::string out = upstream(head, basic_req());
  EXPECT_THAT(out, Not(HasSubstr("6.6.6.6")));
  EXPECT_THAT(out, Not(HasSubstr("https")));
  EXPECT_THAT(out, Not(HasSubstr("spoofed")));
  EXPECT_THAT(out, HasSubstr("X-Forwarded-For: 192.0.2.7\r\n"));
  EXPECT_THAT(out, Not(HasSubstr("443")));
  EXPECT_THAT(out, HasSubstr("X-Kept: 1\r\n"));  // with the proto and host the gateway states
}

TEST(WriteUpstreamRequest, ForwardingHeadersAFilterSetAreKept) {
  // Dropped on arrival, not when written: an operator's headers filter may
  // set them (behind a TLS terminator, say).
  RequestHead head = make_head({{"Forwarded", "proto=https"}, {"X-Forwarded-Port", "443"}});
  std::string out;
  write_upstream_request(head, basic_req(), out);
  EXPECT_THAT(out, HasSubstr("Forwarded: proto=https\r\n"));
  EXPECT_THAT(out, HasSubstr("X-Forwarded-Port: 443\r\n"));
}

TEST(ConnectionTokens, FramingAndHostAreNeverRemoved) {
  // The gateway reads them itself; filters must see them too (a cache must
  // know a GET has a body even when Connection names Content-Length).
  HeaderList list{{"Connection", "content-length, Transfer-Encoding, host, x-a"},
                  {"Content-Length", "5"}, {"Transfer-Encoding", "chunked"}, {"Host", "h"}, {"X-A", "1"}};
  ConnectionTokens conn;
  conn.parse(list);
  conn.remove_named(list);
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(list[1].name, "Content-Length");
  EXPECT_EQ(list[2].name, "Transfer-Encoding");
  EXPECT_EQ(list[3].name, "Host");
}

TEST(ConnectionTokens, ClientAddressFieldsAreNeverRemoved) {
  // A trusted proxy appended the client's address there; ip_rules reads it.
  HeaderList list{{"Connection", "X-Forwarded-For, x-real-ip, X-B"},
                  {"X-Forwarded-For", "203.0.113.5"}, {"X-Real-IP", "203.0.113.5"}, {"X-B", "1"}};
  ConnectionTokens conn;
  conn.parse(list);
  conn.remove_named(list);
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[1].name, "X-Forwarded-For");
  EXPECT_EQ(list[2].name, "X-Real-IP");
}

TEST(WriteUpstreamRequest, NoForwardedHostWithoutAHost) {
  RequestHead head = make_head({});
  head.host = {};
  EXPECT_THAT(upstream(head, basic_req()), Not(HasSubstr("X-Forwarded-Host")));
}

TEST(WriteUpstreamRequest, ViaIsAppended) {
  RequestHead head = make_head({{"Via", "1.0 fred, 1.1 p.example.net"}});
  std::string out = upstream(head, basic_req());
  EXPECT_THAT(out, HasSubstr("\r\nVia: 1.0 fred, 1.1 p.example.net, 1.1 ringway\r\n"));
  EXPECT_EQ(out.find("Via:"), out.rfind("Via:"));
  // Via names the version the request came in (RFC 9110 7.6.3).
  UpstreamRequest req = basic_req();
  req.http10 = true;
  EXPECT_THAT(upstream(head, req), HasSubstr(", 1.0 ringway\r\n"));
}

// RFC 9110 5.3: several field lines with the same name are one
// comma-separated list; a proxy must not drop members of it. (Regression: only
// the last line was kept before 8e528ea.)
TEST(WriteUpstreamRequest, RepeatedViaAndForwardedForLinesAreAllKept) {
  RequestHead head = make_head({{"Via", "1.0 a"},
                                {"X-Forwarded-For", "198.51.100.1"},
                                {"Via", "1.1 b"},
                                {"X-Forwarded-For", "203.0.113.9"}});
  std::string out = upstream(head, basic_req());
  EXPECT_THAT(out, HasSubstr("X-Forwarded-For: 198.51.100.1, 203.0.113.9, 192.0.2.7\r\n"));
  EXPECT_THAT(out, HasSubstr("Via: 1.0 a, 1.1 b, 1.1 ringway\r\n"));
}

TEST(WriteUpstreamRequest, FramingHeadersComeFromTheWriter) {
  RequestHead head = make_head({{"Content-Length", "999"}, {"Transfer-Encoding", "chunked"}},
                               "POST");
  UpstreamRequest req = basic_req();

  req.framing = BodyFraming::kContentLength;
  req.content_length = 12345678901;
  std::string out = upstream(head, req);
  EXPECT_THAT(out, HasSubstr("\r\nContent-Length: 12345678901\r\n"));
  EXPECT_THAT(out, Not(HasSubstr("999")));
  EXPECT_THAT(out, Not(HasSubstr("Transfer-Encoding")));
  EXPECT_TRUE(out.ends_with("Via: 1.1 ringway\r\nContent-Length: 12345678901\r\n\r\n"));

  req.framing = BodyFraming::kChunked;
  out = upstream(head, req);
  EXPECT_THAT(out, Not(HasSubstr("Content-Length")));
  EXPECT_TRUE(out.ends_with("Via: 1.1 ringway\r\nTransfer-Encoding: chunked\r\n\r\n"));

  req.framing = BodyFraming::kNone;
  out = upstream(head, req);
  EXPECT_THAT(out, Not(HasSubstr("Content-Length")));
  EXPECT_THAT(out, Not(HasSubstr("Transfer-Encoding")));

  req.framing = BodyFraming::kContentLength;
  req.content_length = 0;
  EXPECT_THAT(upstream(head, req), HasSubstr("\r\nContent-Length: 0\r\n"));
}

TEST(WriteUpstreamRequest, Http10Mode) {
  UpstreamRequest req = basic_req();
  req.http10 = true;
  std::string out = upstream(make_head({{"Host", "h"}}), req);
  EXPECT_EQ(lines_of(out)[0], "GET /rewritten?a=1 HTTP/1.0");
  EXPECT_THAT(out, HasSubstr("Host: upstream.internal\r\n"));
}

TEST(WriteUpstreamRequest, MethodIsKeptAndOtherHeadersKeepOrderAndCase) {
  RequestHead head = make_head({{"b-Second", "2"}, {"A-first", "1"}, {"b-second", "3"}}, "PATCH");
  std::vector<std::string> lines = lines_of(upstream(head, basic_req()));
  ASSERT_GE(lines.size(), 5u);
  EXPECT_EQ(lines[0], "PATCH /rewritten?a=1 HTTP/1.1");
  EXPECT_EQ(lines[2], "b-Second: 2");
  EXPECT_EQ(lines[3], "A-first: 1");
  EXPECT_EQ(lines[4], "b-second: 3");
}

// ---------------------------------------------------------------------------
// write_client_response

std::string client(const std::vector<Header>& headers, const ClientResponse& resp) {
  HeaderList list;
  for (auto& h : headers) list.push_back(h);
  ConnectionTokens conn;
  conn.parse(list);
  conn.remove_named(list);
  std::string out;
  write_client_response(list, resp, out);
  return out;
}

TEST(WriteClientResponse, ExactBytes) {
  ClientResponse resp;
  resp.status = 200;
  resp.framing = BodyFraming::kContentLength;
  resp.content_length = 5;
  EXPECT_EQ(client({{"Content-Type", "text/html"}, {"Content-Length", "5"}}, resp),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/html\r\n"
            "Via: 1.1 ringway\r\n"
            "Content-Length: 5\r\n"
            "\r\n");
}

TEST(WriteClientResponse, SwitchingToWebSocket) {
  ClientResponse resp;
  resp.status = 101;
  resp.upgrade = true;
  resp.close = true;  // never both: the connection is no longer HTTP's to close
  EXPECT_EQ(client({{"Upgrade", "websocket"}, {"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}}, resp),
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "Via: 1.1 ringway\r\n"
            "Connection: upgrade\r\n"
            "Upgrade: websocket\r\n"
            "\r\n");
}

TEST(WriteClientResponse, HopByHopRemoved) {
  ClientResponse resp;
  resp.status = 404;
  std::vector<std::string> lines =
      lines_of(client({{"Connection", "close, X-Internal"},
                       {"Keep-Alive", "timeout=5"},
                       {"Transfer-Encoding", "chunked"},
                       {"Content-Length", "3"},
                       {"Upgrade", "h2c"},
                       {"Trailer", "X"},
                       {"Proxy-Authenticate", "Basic"},
                       {"X-Internal", "secret"},
                       {"Set-Cookie", "a=b"}},
                      resp));
  EXPECT_THAT(lines, ElementsAre("HTTP/1.1 404 Not Found", "Set-Cookie: a=b", "Via: 1.1 ringway",
                                 "Content-Length: 0"));
}

TEST(WriteClientResponse, HeadKeepsTheUpstreamContentLength) {
  ClientResponse resp;
  resp.head_request = true;
  resp.framing = BodyFraming::kNone;
  std::vector<std::string> lines = lines_of(
      client({{"Content-Length", "4096"}, {"Transfer-Encoding", "chunked"}, {"ETag", "\"x\""}},
             resp));
  EXPECT_THAT(lines, ElementsAre("HTTP/1.1 200 OK", "Content-Length: 4096", "ETag: \"x\"",
                                 "Via: 1.1 ringway"));
}

TEST(WriteClientResponse, Framing) {
  ClientResponse resp;
  resp.framing = BodyFraming::kChunked;
  std::string out = client({{"Content-Length", "7"}}, resp);
  EXPECT_TRUE(out.ends_with("Via: 1.1 ringway\r\nTransfer-Encoding: chunked\r\n\r\n"));
  EXPECT_THAT(out, Not(HasSubstr("Content-Length")));

  resp.framing = BodyFraming::kContentLength;
  resp.content_length = 7;
  out = client({{"Transfer-Encoding", "chunked"}}, resp);
  EXPECT_TRUE(out.ends_with("Via: 1.1 ringway\r\nContent-Length: 7\r\n\r\n"));
  EXPECT_THAT(out, Not(HasSubstr("Transfer-Encoding")));

  resp.framing = BodyFraming::kNone;  // an empty body
  out = client({{"Content-Length", "7"}}, resp);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nVia: 1.1 ringway\r\nContent-Length: 0\r\n\r\n");

  resp.framing = BodyFraming::kUntilClose;
  resp.close = true;
  out = client({}, resp);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nVia: 1.1 ringway\r\nConnection: close\r\n\r\n");
}

// An upstream "200 OK" with "Content-Length: 0" has response_framing() ==
// kNone, and the upstream's Content-Length is dropped as hop-by-hop; the
// writer must delimit the empty body itself. Without it the client gets a 200
// with neither Content-Length nor Transfer-Encoding on a keep-alive
// connection, a body that runs until close per RFC 9112 6.3: the client waits,
// or reads the next response as this one's body. (Regression: fixed in 8e528ea.)
TEST(WriteClientResponse, EmptyBodyIsDelimitedWhenTheStatusAllowsABody) {
  for (int status : {200, 201, 302, 404, 500}) {
    SCOPED_TRACE(status);
    ClientResponse resp;
    resp.status = status;
    resp.framing = BodyFraming::kNone;
    std::string out = client({{"Content-Length", "0"}}, resp);
    EXPECT_THAT(out, HasSubstr("\r\nContent-Length: 0\r\n"));
  }
}

TEST(WriteClientResponse, NoBodyStatusesNeedNoLength) {
  for (int status : {100, 204, 304}) {
    SCOPED_TRACE(status);
    ClientResponse resp;
    resp.status = status;
    resp.framing = BodyFraming::kNone;
    std::string out = client({}, resp);
    EXPECT_THAT(out, Not(HasSubstr("Content-Length")));
    EXPECT_THAT(out, Not(HasSubstr("Transfer-Encoding")));
  }
}

// Reader -> writer -> reader: the response the client gets must be framed the
// way the upstream's was.
TEST(WriteClientResponse, RoundTripKeepsFraming) {
  struct Case {
    const char* upstream;
    bool head;
  };
  const Case cases[] = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false},
      {"HTTP/1.1 204 No Content\r\n\r\n", false},
      {"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", false},
      {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true},
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false},
      {"HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.upstream);
    HeadReader up(HTTP_RESPONSE);
    up.reset(HeadLimits{});
    const std::string in = c.upstream;
    size_t used = 0;
    ASSERT_EQ(up.feed(in.data(), in.size(), &used), HeadStatus::kComplete);
    HeaderList headers;
    up.fill(headers);
    ConnectionTokens conn;
    conn.parse(headers);
    conn.remove_named(headers);
    ClientResponse resp;
    resp.status = up.status_code();
    resp.framing = up.response_framing(c.head);
    resp.content_length = up.content_length();
    resp.head_request = c.head;
    std::string out;
    write_client_response(headers, resp, out);

    HeadReader down(HTTP_RESPONSE);
    down.reset(HeadLimits{});
    ASSERT_EQ(down.feed(out.data(), out.size(), &used), HeadStatus::kComplete) << out;
    EXPECT_EQ(used, out.size());
    EXPECT_EQ(down.status_code(), up.status_code());
    BodyFraming want = up.response_framing(c.head);
    BodyFraming got = down.response_framing(c.head);
    EXPECT_EQ(static_cast<int>(got), static_cast<int>(want)) << out;
    EXPECT_TRUE(down.keep_alive()) << out;
  }
}

TEST(WriteClientResponse, ConnectionHeader) {
  ClientResponse resp;
  resp.framing = BodyFraming::kContentLength;
  resp.content_length = 0;
  EXPECT_THAT(client({}, resp), Not(HasSubstr("Connection")));
  resp.keep_alive = true;
  EXPECT_TRUE(client({}, resp).ends_with("Content-Length: 0\r\nConnection: keep-alive\r\n\r\n"));
  resp.close = true;  // close wins
  std::string out = client({{"Connection", "keep-alive"}}, resp);
  EXPECT_TRUE(out.ends_with("Content-Length: 0\r\nConnection: close\r\n\r\n"));
  EXPECT_THAT(out, Not(HasSubstr("keep-alive")));
}

TEST(WriteClientResponse, ViaAppended) {
  ClientResponse resp;
  std::string out = client({{"via", "1.1 origin-cache"}}, resp);
  EXPECT_THAT(out, HasSubstr("\r\nVia: 1.1 origin-cache, 1.1 ringway\r\n"));
  EXPECT_EQ(out.find("ia:"), out.rfind("ia:"));
  resp.received_http10 = true;
  EXPECT_THAT(client({}, resp), HasSubstr("\r\nVia: 1.0 ringway\r\n"));
}

// RFC 9110 6.6.1: a response forwarded without Date gets one; one that has
// it keeps the sender's.
TEST(WriteClientResponse, DateAddedWhenMissing) {
  ClientResponse resp;
  resp.date = "Mon, 07 Dec 2026 15:00:00 GMT";
  EXPECT_THAT(client({}, resp), HasSubstr("\r\nDate: Mon, 07 Dec 2026 15:00:00 GMT\r\n"));
  std::string out = client({{"date", "Sun, 06 Nov 1994 08:49:37 GMT"}}, resp);
  EXPECT_THAT(out, HasSubstr("\r\ndate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"));
  EXPECT_THAT(out, Not(HasSubstr("2026")));
  resp.date = {};
  EXPECT_THAT(client({}, resp), Not(HasSubstr("Date")));
}

TEST(WriteClientResponse, UnknownStatusAndReason) {
  ClientResponse resp;
  resp.status = 599;
  EXPECT_EQ(lines_of(client({}, resp))[0], "HTTP/1.1 599 Unknown");
  resp.status = 103;  // in the table now
  EXPECT_EQ(lines_of(client({}, resp))[0], "HTTP/1.1 103 Early Hints");
}

// ---------------------------------------------------------------------------
// write_local_response

TEST(WriteLocalResponse, ExactBytes) {
  std::string out;
  write_local_response(404, "no route", false, false, "Mon, 07 Dec 2026 15:00:00 GMT", out);
  EXPECT_EQ(out,
            "HTTP/1.1 404 Not Found\r\n"
            "Date: Mon, 07 Dec 2026 15:00:00 GMT\r\n"
            "Server: ringway\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Length: 9\r\n"
            "\r\n"
            "no route\n");
}

TEST(WriteLocalResponse, FieldsFiltersAddedGoOutWithIt) {
  // A 502 that passed a route's response filters keeps their CORS and
  // security headers; the fields the gateway writes itself are its own.
  HeaderList extra{{"Access-Control-Allow-Origin", "https://app.example"}, {"Vary", "Origin"},
                   {"Content-Length", "99"}, {"Content-Type", "text/html"}, {"Date", "x"},
                   {"Connection", "keep-alive"}, {"Server", "other"}, {"Cache-Control", "max-age=86400"},
                   {"Expires", "x"}, {"Content-Encoding", "gzip"}, {"Set-Cookie", "a=b"}};
  std::string out;
  write_local_response(502, "bad", false, false, "", out, &extra);
  EXPECT_EQ(out,
            "HTTP/1.1 502 Bad Gateway\r\n"
            "Server: ringway\r\n"
            "Access-Control-Allow-Origin: https://app.example\r\n"
            "Vary: Origin\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Length: 4\r\n"
            "\r\n"
            "bad\n");
}

TEST(WriteLocalResponse, Close) {
  std::string out;
  write_local_response(400, "bad", true, false, "", out);
  EXPECT_EQ(out,
            "HTTP/1.1 400 Bad Request\r\n"
            "Server: ringway\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Length: 4\r\n"
            "Connection: close\r\n"
            "\r\n"
            "bad\n");
}

TEST(WriteLocalResponse, HeadHasNoBodyButTheSameLength) {
  std::string out;
  write_local_response(503, "upstream down", false, true, "", out);
  EXPECT_EQ(out,
            "HTTP/1.1 503 Service Unavailable\r\n"
            "Server: ringway\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Length: 14\r\n"
            "\r\n");
}

TEST(WriteOptionsResponse, ExactBytes) {
  std::string out;
  write_options_response("GET, OPTIONS", false, "Mon, 07 Dec 2026 15:00:00 GMT", out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\n"
            "Date: Mon, 07 Dec 2026 15:00:00 GMT\r\n"
            "Server: ringway\r\n"
            "Allow: GET, OPTIONS\r\n"
            "Content-Length: 0\r\n"
            "\r\n");
  out.clear();
  write_options_response("GET", true, "", out);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nServer: ringway\r\nAllow: GET\r\nContent-Length: 0\r\n"
                 "Connection: close\r\n\r\n");
}

TEST(WriteLocalResponse, EmptyBodyAndAppend) {
  std::string out = "x";
  write_local_response(200, "", true, false, "", out);
  EXPECT_EQ(out,
            "xHTTP/1.1 200 OK\r\nServer: ringway\r\nContent-Type: text/plain\r\n"
            "Content-Length: 1\r\nConnection: close\r\n\r\n\n");
}

// ---------------------------------------------------------------------------
// reason_phrase, is_hop_by_hop

TEST(ReasonPhrase, Table) {
  EXPECT_EQ(reason_phrase(100), "Continue");
  EXPECT_EQ(reason_phrase(200), "OK");
  EXPECT_EQ(reason_phrase(204), "No Content");
  EXPECT_EQ(reason_phrase(304), "Not Modified");
  EXPECT_EQ(reason_phrase(400), "Bad Request");
  EXPECT_EQ(reason_phrase(404), "Not Found");
  EXPECT_EQ(reason_phrase(413), "Content Too Large");
  EXPECT_EQ(reason_phrase(414), "URI Too Long");
  EXPECT_EQ(reason_phrase(417), "Expectation Failed");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(502), "Bad Gateway");
  EXPECT_EQ(reason_phrase(503), "Service Unavailable");
  EXPECT_EQ(reason_phrase(504), "Gateway Timeout");
  EXPECT_EQ(reason_phrase(505), "HTTP Version Not Supported");
  EXPECT_EQ(reason_phrase(0), "Unknown");
  EXPECT_EQ(reason_phrase(299), "Unknown");
  EXPECT_EQ(reason_phrase(-1), "Unknown");
}

TEST(IsHopByHop, KnownNamesAnyCase) {
  for (std::string_view n :
       {"Connection", "connection", "CONNECTION", "Keep-Alive", "keep-alive", "TE", "te",
        "Trailer", "Upgrade", "upgrade", "Transfer-Encoding", "transfer-encoding",
        "Content-Length", "CONTENT-LENGTH", "Proxy-Authorization", "Proxy-Authenticate",
        "proxy-connection", "PROXY-Foo-Bar"})
    EXPECT_TRUE(is_hop_by_hop(n)) << n;
}

TEST(IsHopByHop, EndToEndNames) {
  for (std::string_view n :
       {"", "Host", "Via", "Content-Type", "Cookie", "Trailers", "Tex", "Connections",
        "X-Connection", "Content-Lengths", "Transfer-Encodings", "Proxy", "proxy_x",
        "Authorization", "Upgrade-Insecure-Requests"})
    EXPECT_FALSE(is_hop_by_hop(n)) << n;
}

// The header promises "the Proxy-* family". (Regression: the prefix test only
// ran for lengths no switch case claimed before 8e528ea.)
TEST(IsHopByHop, ProxyFamilyOfAnyLength) {
  for (std::string_view n : {"Proxy-X", "Proxy-Auth", "Proxy-Instance", "Proxy-Credential1"}) {
    EXPECT_TRUE(is_hop_by_hop(n)) << n << " (length " << n.size() << ")";
  }
}

// ---------------------------------------------------------------------------
// ConnectionTokens

ConnectionTokens parse_conn(const std::vector<Header>& headers) {
  HeaderList list;
  for (auto& h : headers) list.push_back(h);
  ConnectionTokens t;
  t.parse(list);
  return t;
}

TEST(ConnectionTokens, CommasAndOws) {
  ConnectionTokens t = parse_conn({{"Connection", " ,X-A ,\tx-b\t,, ,  Upgrade  ,"}});
  EXPECT_FALSE(t.close);
  EXPECT_FALSE(t.keep_alive);
  EXPECT_THAT(t.named, ElementsAre("X-A", "x-b", "Upgrade"));
  EXPECT_TRUE(t.names("x-a"));
  EXPECT_TRUE(t.names("X-B"));
  EXPECT_TRUE(t.names("upgrade"));
  EXPECT_FALSE(t.names("X-C"));
  EXPECT_FALSE(t.names("X-"));
}

TEST(ConnectionTokens, CloseAndKeepAliveAreNotNamedHeaders) {
  ConnectionTokens t = parse_conn({{"Connection", "Keep-Alive"}});
  EXPECT_TRUE(t.keep_alive);
  EXPECT_FALSE(t.close);
  EXPECT_TRUE(t.named.empty());
  t = parse_conn({{"connection", "CLOSE"}});
  EXPECT_TRUE(t.close);
  EXPECT_TRUE(t.named.empty());
  t = parse_conn({{"Connection", "close, keep-alive"}});
  EXPECT_TRUE(t.close);
  EXPECT_TRUE(t.keep_alive);
}

TEST(ConnectionTokens, SeveralConnectionHeadersAndOthersIgnored) {
  ConnectionTokens t = parse_conn({{"Connection", "x-one"},
                                   {"X-Connection", "close"},
                                   {"Host", "h"},
                                   {"CONNECTION", "close, x-two"}});
  EXPECT_TRUE(t.close);
  EXPECT_THAT(t.named, ElementsAre("x-one", "x-two"));
}

TEST(ConnectionTokens, EmptyAndReset) {
  ConnectionTokens t = parse_conn({{"Connection", ""}});
  EXPECT_TRUE(t.named.empty());
  EXPECT_FALSE(t.close);
  t = parse_conn({{"Connection", "close, x"}});
  t.reset();
  EXPECT_TRUE(t.named.empty());
  EXPECT_FALSE(t.close);
  EXPECT_FALSE(t.keep_alive);
}

TEST(ConnectionTokens, TokensAreNotSubstrings) {
  ConnectionTokens t = parse_conn({{"Connection", "closed, keep-alive-ish"}});
  EXPECT_FALSE(t.close);
  EXPECT_FALSE(t.keep_alive);
  EXPECT_THAT(t.named, ElementsAre("closed", "keep-alive-ish"));
}

TEST(ConnectionTokens, LongListKeepsEveryName) {
  std::string v;
  for (int i = 0; i < 40; ++i) v += "x-" + std::to_string(i) + ",";
  v += "close";
  ConnectionTokens t = parse_conn({{"Connection", v}});
  EXPECT_EQ(t.named.size(), 40u);
  EXPECT_TRUE(t.close);
  for (int i = 0; i < 40; ++i) EXPECT_TRUE(t.names("X-" + std::to_string(i))) << i;
  EXPECT_FALSE(t.names("x-40"));
  EXPECT_FALSE(t.names("x-"));
}

}  // namespace
}  // namespace ringway::http
