// api_key: key lookup from a header or the query, credential hiding, the
// consumer attribute and header, 401 answers, and config errors.

#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>

#include "filters/api_key/api_key_filter.h"
#include "filters/query_param.h"

namespace ringway::filters {
namespace {

// printf %s KEY | sha256sum
constexpr const char* kTest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";  // "test"
constexpr const char* kBob = "9f03ef1533a68d2f506f81ef463c1183a82a6bd40e45613f36e6fe1889cf1b99";   // "bob-secret"
constexpr const char* kPlus = "1ba61f0004d46ba7d54e7954dc74e64c8610511a1d4f25ecb7a221c60c1a4576";  // "a+b/c="
constexpr const char* kFileKey = "a0cc538968c3de95e887314617b79289de0f999e78c8f7eef949463a96055b52";  // "file-key"

// ---- query helpers ---------------------------------------------------------

TEST(QueryParam, PercentDecode) {
  std::string out;
  EXPECT_TRUE(percent_decode("a%2Bb%2fc%3D+d", out));
  EXPECT_EQ(out, "a+b/c=+d");
  EXPECT_FALSE(percent_decode("abc%4", out));
  EXPECT_FALSE(percent_decode("abc%", out));
  EXPECT_FALSE(percent_decode("%zz", out));
}

TEST(QueryParam, Find) {
  auto p = find_param("a=1&api_key=xyz&b", "api_key");
  EXPECT_EQ(p.count, 1u);
  EXPECT_EQ(p.raw, "xyz");
  EXPECT_EQ(find_param("api%5Fkey=q", "api_key").raw, "q");
  EXPECT_EQ(find_param("api_key=1&api_key=2", "api_key").count, 2u);
  EXPECT_EQ(find_param("api_keyx=1&xapi_key=2", "api_key").count, 0u);
  // PHP reads these as api_key too: a second copy must not slip past.
  EXPECT_EQ(find_param("api.key=1&api+key=2&api%20key=3&api[key=4&+api_key=5&api%2Ekey=6", "api_key").count, 6u);
  EXPECT_EQ(find_param("api-key=1&apikey=2&api_key]=3", "api_key").count, 0u);
  EXPECT_EQ(find_param("access.token=t", "access_token").raw, "t");
  // Both ways: a configured "api.key" is PHP's api_key too.
  EXPECT_EQ(find_param("api.key=1&api_key=2", "api.key").count, 2u);
  EXPECT_EQ(find_param("", "api_key").count, 0u);
  p = find_param("api_key", "api_key");
  EXPECT_EQ(p.count, 1u);
  EXPECT_EQ(p.raw, "");
}

TEST(QueryParam, Remove) {
  EXPECT_EQ(remove_param("a=1&api_key=xyz&b=2", "api_key"), "a=1&b=2");
  EXPECT_EQ(remove_param("api_key=xyz", "api_key"), "");
  EXPECT_EQ(remove_param("api_key=xyz&b=%20", "api_key"), "b=%20");
  EXPECT_EQ(remove_param("a=1&api%5fkey=x&api_key=y", "api_key"), "a=1");
  EXPECT_EQ(remove_param("a=1&&b=2", "api_key"), "a=1&&b=2");
  EXPECT_EQ(remove_param("a.b=1&api.key=x&api[key=y", "api_key"), "a.b=1");
}

// ---- compiling -------------------------------------------------------------

struct Compiled {
  std::shared_ptr<const filter::Filter> filter;
  std::string error;
};

std::string g_file = "/etc/ringway/ringway.yaml";

// `body` is the filter's map, indented by four spaces; it starts on line 4.
Compiled compile(const std::string& body, const std::string& file = g_file) {
  std::string text = "filters:\n  auth:\n    type: api_key\n" + body;
  config::Config cfg;
  cfg.source_file = file;
  try {
    YAML::Node root = YAML::Load(text);
    YAML::Node n = root["filters"]["auth"];
    config::FilterSpec spec{"auth", "api_key", std::make_shared<const YAML::Node>(n), "filters.auth"};
    config::detail::Field field{YAML::Node(), n, spec.path};
    return {compile_api_key(FilterBuild{spec, field, cfg}), ""};
  } catch (const config::detail::ConfigError& e) {
    return {nullptr, config::detail::format_error(file, e.mark, e.message)};
  }
}

std::shared_ptr<const filter::Filter> must(const std::string& body) {
  Compiled c = compile(body);
  EXPECT_TRUE(c.filter) << c.error;
  return c.filter;
}

std::string keys_map() {
  return std::string("    keys:\n      \"") + kTest + "\": alice\n      " + kBob + ": bob\n";
}

// ---- requests --------------------------------------------------------------

struct Request {
  http::RequestHead head;
  filter::Context ctx;
  std::unique_ptr<filter::WorkerState> ws;
  filter::WorkerState* ws_ptr = nullptr;

  explicit Request(const filter::Filter& f, std::string_view query = {}) {
    head.method = "GET";
    head.path = "/";
    head.query = query;
    ws = f.make_worker_state(0);
    ws_ptr = ws.get();
    ctx.request = &head;
    ctx.client_ip = "127.0.0.1";
    ctx.begin(1, &ws_ptr, nullptr, nullptr, 0);
    ctx.enter(0);
  }
  Request& header(std::string_view name, std::string_view value) {
    head.headers.push_back({name, value});
    return *this;
  }
  filter::Outcome run(const filter::Filter& f) { return f.on_request_head(ctx); }
  std::string_view find(std::string_view name) const {
    const http::Header* h = head.find(name);
    return h ? h->value : std::string_view("<none>");
  }
  size_t count(std::string_view name) const {
    size_t n = 0;
    for (const auto& h : head.headers) n += http::iequals(h.name, name);
    return n;
  }
  std::string_view response_header(std::string_view name) const {
    for (const auto& h : const_cast<filter::Context&>(ctx).local().headers)
      if (http::iequals(h.name, name)) return h.value;
    return "<none>";
  }
};

void expect_401(Request& r, const filter::Filter& f, std::string_view body,
                std::string_view realm = "ringway") {
  ASSERT_EQ(r.run(f), filter::Outcome::kRespond);
  EXPECT_EQ(r.ctx.local().status, 401);
  EXPECT_EQ(r.ctx.local().body, body);
  EXPECT_EQ(r.response_header("WWW-Authenticate"), "ApiKey realm=\"" + std::string(realm) + "\"");
  EXPECT_EQ(r.response_header("Content-Type"), "text/plain");
  EXPECT_FALSE(r.ctx.has_attribute("consumer"));
}

TEST(ApiKeyFilter, RequestHeadOnlyWithAWorkerHasher) {
  auto f = must(keys_map());
  EXPECT_EQ(f->phases(), filter::kRequestHead);
  EXPECT_NE(f->make_worker_state(0), nullptr);
}

TEST(ApiKeyFilter, DefaultHeaderKey) {
  auto f = must(keys_map());
  Request r(*f);
  r.header("x-api-key", "test").header("Accept", "*/*");
  ASSERT_EQ(r.run(*f), filter::Outcome::kProceed);
  EXPECT_EQ(r.ctx.attribute("consumer"), "alice");
  EXPECT_EQ(r.count("X-API-Key"), 0u);  // hidden by default
  EXPECT_EQ(r.find("Accept"), "*/*");

  Request b(*f);
  b.header("X-API-Key", "bob-secret");
  ASSERT_EQ(b.run(*f), filter::Outcome::kProceed);
  EXPECT_EQ(b.ctx.attribute("consumer"), "bob");
}

TEST(ApiKeyFilter, WrongKey) {
  auto f = must(keys_map());
  Request r(*f);
  r.header("X-API-Key", "tesT");
  expect_401(r, *f, "invalid API key\n");
  // Nothing of the key in the answer.
  for (const auto& h : r.ctx.local().headers) EXPECT_EQ(h.value.find("tesT"), std::string_view::npos);
}

TEST(ApiKeyFilter, MissingKey) {
  auto f = must(keys_map());
  Request r(*f);
  expect_401(r, *f, "missing API key\n");
  Request empty(*f);
  empty.header("X-API-Key", "");
  expect_401(empty, *f, "missing API key\n");
  // A query key is not read unless configured.
  Request q(*f, "X-API-Key=test&api_key=test");
  expect_401(q, *f, "missing API key\n");
}

TEST(ApiKeyFilter, KeyGivenTwiceIsRefused) {
  auto f = must(keys_map());
  Request r(*f);
  r.header("X-API-Key", "test").header("X-API-Key", "test");
  expect_401(r, *f, "invalid API key\n");
}

TEST(ApiKeyFilter, HideCredentialsOff) {
  auto f = must(keys_map() + "    hide_credentials: false\n");
  Request r(*f);
  r.header("X-API-Key", "test");
  ASSERT_EQ(r.run(*f), filter::Outcome::kProceed);
  EXPECT_EQ(r.find("X-API-Key"), "test");
}

TEST(ApiKeyFilter, CustomHeaderAndRealm) {
  auto f = must(keys_map() + "    header: Authorization-Key\n    realm: \"api v2\"\n");
  Request r(*f);
  r.header("authorization-key", "test").header("X-API-Key", "bob-secret");
  ASSERT_EQ(r.run(*f), filter::Outcome::kProceed);
  EXPECT_EQ(r.ctx.attribute("consumer"), "alice");
  EXPECT_EQ(r.count("Authorization-Key"), 0u);
  EXPECT_EQ(r.find("X-API-Key"), "bob-secret");  // not ours, left alone
  Request bad(*f);
  bad.header("X-API-Key", "test");
  expect_401(bad, *f, "missing API key\n", "api v2");
}

TEST(ApiKeyFilter, QueryKey) {
  auto f = must(keys_map() + "    query: api_key\n");
  Request r(*f, "a=1&api_key=test&b=2");
  r.head.target = "/x?a=1&api_key=test&b=2";
  ASSERT_EQ(r.run(*f), filter::Outcome::kProceed);
  EXPECT_EQ(r.ctx.attribute("consumer"), "alice");
  EXPECT_EQ(r.head.query, "a=1&b=2");
  EXPECT_EQ(r.head.target, "/x?a=1&b=2");
  Request only(*f, "api_key=test");
  only.head.target = "http://example.com/x?api_key=test";
  ASSERT_EQ(only.run(*f), filter::Outcome::kProceed);
  EXPECT_EQ(only.head.query, "");
  EXPECT_EQ(only.head.target, "http://example.com/x");
  // Only the query was configured: the header is not read.
  Request h(*f);
  h.header("X-API-Key", "test");
  expect_401(h, *f, "missing API key\n");
  Request wrong(*f, "api_key=nope");
  expect_401(wrong, *f, "invalid API key\n");
  Request twice(*f, "api_key=test&api_key=test");
  expect_401(twice, *f, "invalid API key\n");
  Request bad_escape(*f, "api_key=te%st");
  expect_401(bad_escape, *f, "invalid API key\n");
}

TEST(ApiKeyFilter, QueryKeyIsPercentDecodedPlusIsLiteral) {
  auto f = must(std::string("    keys: {") + kPlus + ": carol}\n    query: k\n");
  Request encoded(*f, "k=a%2Bb%2Fc%3D");
  ASSERT_EQ(encoded.run(*f), filter::Outcome::kProceed);
  EXPECT_EQ(encoded.ctx.attribute("consumer"), "carol");
  EXPECT_EQ(encoded.head.query, "");
  Request raw(*f, "x=1&k=a+b/c=");
  ASSERT_EQ(raw.run(*f), filter::Outcome::kProceed);
  EXPECT_EQ(raw.head.query, "x=1");
}

TEST(ApiKeyFilter, QueryKeyKeptWhenNotHiding) {
  auto f = must(keys_map() + "    query: api_key\n    hide_credentials: false\n");
  Request r(*f, "api_key=test&z=9");
  ASSERT_EQ(r.run(*f), filter::Outcome::kProceed);
  EXPECT_EQ(r.head.query, "api_key=test&z=9");
}

TEST(ApiKeyFilter, HeaderThenQuery) {
  auto f = must(keys_map() + "    query: api_key\n    header: X-API-Key\n");
  // The header is tried first; the query copy goes too.
  Request both(*f, "api_key=whatever&q=1");
  both.header("X-API-Key", "bob-secret");
  ASSERT_EQ(both.run(*f), filter::Outcome::kProceed);
  EXPECT_EQ(both.ctx.attribute("consumer"), "bob");
  EXPECT_EQ(both.head.query, "q=1");
  EXPECT_EQ(both.count("X-API-Key"), 0u);
  // No header: the query decides.
  Request query(*f, "api_key=test");
  ASSERT_EQ(query.run(*f), filter::Outcome::kProceed);
  EXPECT_EQ(query.ctx.attribute("consumer"), "alice");
  // A wrong header key is not rescued by a right query key.
  Request wrong(*f, "api_key=test");
  wrong.header("X-API-Key", "nope");
  expect_401(wrong, *f, "invalid API key\n");
}

TEST(ApiKeyFilter, ConsumerHeaderReplacesForgedCopies) {
  auto f = must(keys_map() + "    consumer_header: X-Consumer\n");
  Request r(*f);
  r.header("X-Consumer", "admin").header("X-API-Key", "test").header("x-consumer", "root");
  ASSERT_EQ(r.run(*f), filter::Outcome::kProceed);
  EXPECT_EQ(r.count("X-Consumer"), 1u);
  EXPECT_EQ(r.find("X-Consumer"), "alice");
  // Refused requests never reach the upstream, forged header or not.
  Request bad(*f);
  bad.header("X-Consumer", "admin");
  expect_401(bad, *f, "missing API key\n");
}

TEST(ApiKeyFilter, ListFormAndUppercaseHashes) {
  std::string upper = kTest;
  for (char& c : upper) c = static_cast<char>(toupper(c));
  auto f = must("    keys:\n      - sha256: " + upper + "\n        consumer: alice\n      - { sha256: " +
                kBob + ", consumer: bob }\n");
  Request r(*f);
  r.header("X-API-Key", "test");
  ASSERT_EQ(r.run(*f), filter::Outcome::kProceed);
  EXPECT_EQ(r.ctx.attribute("consumer"), "alice");
}

TEST(ApiKeyFilter, SeveralKeysPerConsumer) {
  auto f = must(std::string("    keys:\n      ") + kTest + ": alice\n      " + kBob + ": alice\n");
  Request r(*f);
  r.header("X-API-Key", "bob-secret");
  ASSERT_EQ(r.run(*f), filter::Outcome::kProceed);
  EXPECT_EQ(r.ctx.attribute("consumer"), "alice");
}

// ---- keys_file -------------------------------------------------------------

class KeysFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/api-key-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    config_ = dir_ + "/ringway.yaml";
  }
  void TearDown() override {
    unlink((dir_ + "/keys.yaml").c_str());
    rmdir(dir_.c_str());
  }
  void write(const std::string& text) { std::ofstream(dir_ + "/keys.yaml") << text; }
  std::string dir_, config_;
};

TEST_F(KeysFile, RelativeToTheConfig) {
  write(std::string("# keys for the api\n") + kFileKey + ": dave\n");
  Compiled c = compile(keys_map() + "    keys_file: keys.yaml\n", config_);
  ASSERT_TRUE(c.filter) << c.error;
  Request r(*c.filter);
  r.header("X-API-Key", "file-key");
  ASSERT_EQ(r.run(*c.filter), filter::Outcome::kProceed);
  EXPECT_EQ(r.ctx.attribute("consumer"), "dave");
  Request a(*c.filter);
  a.header("X-API-Key", "test");
  ASSERT_EQ(a.run(*c.filter), filter::Outcome::kProceed);
}

TEST_F(KeysFile, ListFormAlone) {
  write(std::string("- sha256: ") + kFileKey + "\n  consumer: dave\n");
  Compiled c = compile("    keys_file: keys.yaml\n", config_);
  ASSERT_TRUE(c.filter) << c.error;
}

TEST_F(KeysFile, ErrorsNameTheFileAndPosition) {
  write(std::string(kFileKey) + ": dave\nabc: eve\n");
  Compiled c = compile("    keys_file: keys.yaml\n", config_);
  EXPECT_EQ(c.error, config_ + ":4:16: filters.auth.keys_file: " + dir_ +
                         "/keys.yaml:2:1: keys: must be the SHA-256 of the key as 64 hex digits, "
                         "got 3 characters (make one with: printf %s KEY | sha256sum)");
}

TEST_F(KeysFile, DuplicateAcrossConfigAndFile) {
  write(std::string(kTest) + ": mallory\n");
  Compiled c = compile(keys_map() + "    keys_file: keys.yaml\n", config_);
  EXPECT_NE(c.error.find("/keys.yaml:1:1: keys: duplicate key hash (first at " + config_ + ":5)"),
            std::string::npos)
      << c.error;
}

TEST_F(KeysFile, MissingOrBrokenFile) {
  Compiled c = compile("    keys_file: nope.yaml\n", config_);
  EXPECT_EQ(c.error, config_ + ":4:16: filters.auth.keys_file: cannot read \"" + dir_ + "/nope.yaml\"");
  write("{ unclosed\n");
  c = compile("    keys_file: keys.yaml\n", config_);
  EXPECT_NE(c.error.find(":4:16: filters.auth.keys_file: " + dir_ + "/keys.yaml:"), std::string::npos)
      << c.error;
  write("");
  c = compile("    keys_file: keys.yaml\n", config_);
  EXPECT_EQ(c.error, config_ + ":3:5: filters.auth: no keys: give keys, keys_file or both");
}

// ---- config errors ---------------------------------------------------------

TEST(ApiKeyConfig, HashMustBe64Hex) {
  // The value is not echoed: it may be a raw key pasted by mistake.
  Compiled c = compile("    keys:\n      my-secret-key: alice\n");
  EXPECT_EQ(c.error, g_file + ":5:7: filters.auth.keys: must be the SHA-256 of the key as 64 hex "
                              "digits, got 13 characters (make one with: printf %s KEY | sha256sum)");
  EXPECT_EQ(c.error.find("my-secret-key"), std::string::npos);
  std::string bad = kTest;
  bad[10] = 'g';
  c = compile("    keys:\n      - { sha256: " + bad + ", consumer: alice }\n");
  EXPECT_EQ(c.error, g_file + ":5:19: filters.auth.keys[0].sha256: must be the SHA-256 of the key as 64 "
                              "hex digits, found a non-hex character at position 11 (make one with: "
                              "printf %s KEY | sha256sum)");
}

TEST(ApiKeyConfig, DuplicateHash) {
  std::string upper = kTest;
  for (char& c : upper) c = static_cast<char>(toupper(c));
  Compiled c = compile(std::string("    keys:\n      ") + kTest + ": alice\n      " + upper + ": bob\n");
  EXPECT_EQ(c.error, g_file + ":6:7: filters.auth.keys: duplicate key hash (first at " + g_file + ":5)");
  c = compile(std::string("    keys:\n      ") + kTest + ": alice\n      " + kTest + ": alice\n");
  EXPECT_EQ(c.error, g_file + ":6:7: filters.auth.keys: duplicate key hash (first at " + g_file + ":5)");
}

TEST(ApiKeyConfig, EmptyConsumer) {
  EXPECT_EQ(compile(std::string("    keys:\n      ") + kTest + ": \"\"\n").error,
            g_file + ":5:73: filters.auth.keys: must not be empty");
  EXPECT_EQ(compile(std::string("    keys:\n      ") + kTest + ":\n").error,
            g_file + ":5:7: filters.auth.keys: missing consumer name");
  EXPECT_EQ(compile(std::string("    keys:\n      - sha256: ") + kTest + "\n").error,
            g_file + ":5:9: missing required key \"consumer\" in filters.auth.keys[0]");
  EXPECT_EQ(compile(std::string("    keys:\n      - { sha256: ") + kTest + ", consumer: \"a\\nb\" }\n").error,
            g_file + ":5:95: filters.auth.keys[0].consumer: consumer name must not contain control characters");
}

TEST(ApiKeyConfig, NoKeys) {
  EXPECT_EQ(compile("    header: X-Key\n").error,
            g_file + ":3:5: filters.auth: no keys: give keys, keys_file or both");
  EXPECT_NE(compile("    keys: nope\n").error.find(":4:11: filters.auth.keys: expected a map of SHA-256"),
            std::string::npos);
}

TEST(ApiKeyConfig, OtherSettings) {
  EXPECT_NE(compile(keys_map() + "    header: \"X Key\"\n").error.find(
                ":7:13: filters.auth.header: invalid header name"),
            std::string::npos);
  EXPECT_NE(compile(keys_map() + "    header: Host\n").error.find("is managed by the gateway"),
            std::string::npos);
  EXPECT_NE(compile(keys_map() + "    consumer_header: X-Forwarded-For\n").error.find(
                ":7:22: filters.auth.consumer_header: \"X-Forwarded-For\" is written by the gateway"),
            std::string::npos);
  EXPECT_NE(compile(keys_map() + "    consumer_header: x-api-key\n").error.find(
                ":7:22: filters.auth.consumer_header: must differ from the header that carries the key"),
            std::string::npos);
  EXPECT_NE(compile(keys_map() + "    query: \"a&b\"\n").error.find("must not contain '&'"),
            std::string::npos);
  EXPECT_NE(compile(keys_map() + "    realm: 'a\"b'\n").error.find(":7:12: filters.auth.realm: must not contain"),
            std::string::npos);
  EXPECT_NE(compile(keys_map() + "    hide_credentials: yes\n").error.find("expected true or false"),
            std::string::npos);
  EXPECT_EQ(compile(keys_map() + "    hide_credential: true\n").error,
            g_file + ":7:5: unknown key \"hide_credential\" in filter \"auth\" (did you mean "
                     "\"hide_credentials\"?)");
}

}  // namespace
}  // namespace ringway::filters
