// jwks_url: the key set fetched through WorkerServices (a fake here, which
// records fetches and lets the test answer them), the periodic schedule of
// worker 0, unknown kids suspending a request until a fetch completes (a fake
// Resumer records the resumes; the test re-runs the phase as the engine
// would), the rate limit between such fetches, and failures keeping the last
// good set.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "filters/jwt/jwks_refresh.h"
#include "tests/unit/filters/jwt/jwt_test_util.h"

namespace ringway::filters::jwt {
namespace {

using filter::Outcome;
using testing::Exchange;
using testing::kNowMs;
using testing::kNowS;
using testing::TestKeys;
using ::testing::ElementsAre;
using ::testing::Pair;

// The engine side of one worker: fetches are recorded, answered by the test.
class FakeServices final : public filter::WorkerServices {
 public:
  struct Fetch {
    std::string upstream, path;
    size_t max_body = 0;
    FetchCallback done;
  };
  void wake_at(filter::WorkerState&, int64_t) override {}
  bool fetch(const FetchRequest& request, FetchCallback done) override {
    if (refuse) return false;
    fetches.push_back({std::string(request.upstream), std::string(request.path), request.max_body,
                       std::move(done)});
    return true;
  }
  // Answers fetch `i` (once).
  void complete(size_t i, int status, std::string_view body) {
    ASSERT_LT(i, fetches.size());
    ASSERT_TRUE(fetches[i].done) << "fetch " << i << " answered twice";
    FetchCallback done = std::move(fetches[i].done);
    fetches[i].done = nullptr;
    http::HeaderList headers;
    done(FetchResult{status, &headers, body});
  }
  std::vector<Fetch> fetches;
  bool refuse = false;
};

class FakeResumer final : public filter::Resumer {
 public:
  void resume(void* request, uint32_t generation) override { resumed.emplace_back(request, generation); }
  std::vector<std::pair<void*, uint32_t>> resumed;
};

// A JWK set of the given JWKs.
std::string jwks(std::initializer_list<std::string> keys) {
  std::string out = "{\"keys\":[";
  for (const std::string& k : keys) out += (out.back() == '[' ? "" : ",") + k;
  return out + "]}";
}

class JwksUrlTest : public ::testing::Test {
 protected:
  static constexpr int kWorkers = 2;

  void SetUp() override {
    config_.source_file = dir_.path() + "/t.yaml";
    config_.upstreams.emplace_back();
    config_.upstreams.back().name = "idp";
    const TestKeys& k = TestKeys::get();
    key_a_ = testing::public_jwk(k.rsa.get(), "a", "RS256");
    key_b_ = testing::public_jwk(k.p256.get(), "b");
    key_c_ = testing::public_jwk(k.ed25519.get(), "c");
  }

  // Builds the filter and kWorkers worker states.
  void build(const std::string& extra = "") {
    const std::string yaml = "type: jwt\njwks_url: http://idp/jwks.json\njwks_min_refresh: 10s\n"
                             "jwks_refresh: 1m\n" + extra;
    YAML::Node node = YAML::Load(yaml);
    config::FilterSpec spec{"auth", "jwt", std::make_shared<const YAML::Node>(node), "filters.auth"};
    config::detail::Field field{YAML::Node(), node, "filters.auth"};
    try {
      filter_ = compile_jwt(FilterBuild{spec, field, config_});
    } catch (const config::detail::ConfigError& e) {
      FAIL() << e.message;
    }
    for (int i = 0; i < kWorkers; ++i) {
      workers_[i] = filter_->make_worker_state(static_cast<uint32_t>(i));
      states_[i] = workers_[i].get();
    }
  }

  JwtWorkerState& worker(int i) { return static_cast<JwtWorkerState&>(*workers_[i]); }
  const JwtCounters& counters(int i) { return worker(i).counters; }
  int64_t timer(int i, int64_t now_ms) { return workers_[i]->on_timer(now_ms, services_[i]); }

  // A request with `token` on worker `w` at monotonic time `now_ms`.
  std::unique_ptr<Exchange> send(const std::string& token, int w, int64_t now_ms) {
    auto x = std::make_unique<Exchange>();
    x->header("Authorization", "Bearer " + token);
    x->ctx.request = &x->head;
    x->ctx.unix_ms = kNowMs;
    x->ctx.now_ms = now_ms;
    x->ctx.worker_index = static_cast<uint32_t>(w);
    x->ctx.services = &services_[w];
    x->ctx.begin(1, &states_[w], &resumers_[w], x.get(), 7);
    x->ctx.enter(0);
    x->outcome = filter_->on_request_head(x->ctx);
    return x;
  }
  // The engine's re-run of the phase after a resume.
  void rerun(Exchange& x, int64_t now_ms) {
    x.ctx.now_ms = now_ms;
    x.ctx.enter(0);
    x.outcome = filter_->on_request_head(x.ctx);
  }
  static std::string description(Exchange& x) {
    const std::string www = x.response_header("WWW-Authenticate");
    const size_t at = www.find("error_description=\"");
    return at == std::string::npos ? www : www.substr(at + 19, www.find('"', at + 19) - at - 19);
  }

  static std::string claims() {
    return R"({"sub":"alice","exp":)" + std::to_string(kNowS + 600) + "}";
  }
  static std::string token_a() {
    return testing::token_with_key(TestKeys::get().rsa.get(), Alg::kRS256, R"({"alg":"RS256","kid":"a"})",
                                   claims());
  }
  static std::string token_b() {
    return testing::token_with_key(TestKeys::get().p256.get(), Alg::kES256, R"({"alg":"ES256","kid":"b"})",
                                   claims());
  }
  static std::string token_c() {
    return testing::token_with_key(TestKeys::get().ed25519.get(), Alg::kEdDSA,
                                   R"({"alg":"EdDSA","kid":"c"})", claims());
  }

  // Worker 0 starts and its first fetch answers `body`.
  void start_with(const std::string& body, int64_t now_ms = 1000) {
    timer(0, now_ms);
    ASSERT_EQ(services_[0].fetches.size(), 1u);
    services_[0].complete(0, 200, body);
  }

  testing::TempDir dir_;
  config::Config config_;
  std::shared_ptr<const filter::Filter> filter_;
  std::unique_ptr<filter::WorkerState> workers_[kWorkers];
  filter::WorkerState* states_[kWorkers] = {};
  FakeServices services_[kWorkers];
  FakeResumer resumers_[kWorkers];
  std::string key_a_, key_b_, key_c_;
};

TEST_F(JwksUrlTest, WorkerZeroFetchesAtStartTheOthersNever) {
  build();
  EXPECT_EQ(timer(1, 1000), INT64_MAX);
  EXPECT_TRUE(services_[1].fetches.empty());
  EXPECT_EQ(timer(0, 1000), 1000 + 10'000) << "in flight: look again after jwks_min_refresh";
  ASSERT_EQ(services_[0].fetches.size(), 1u);
  EXPECT_EQ(services_[0].fetches[0].upstream, "idp");
  EXPECT_EQ(services_[0].fetches[0].path, "/jwks.json");
  EXPECT_EQ(services_[0].fetches[0].max_body, 1024u * 1024);

  // Before the first set arrives there are no keys. A request of worker 0
  // waits for the fetch in flight (no second fetch).
  auto early = send(token_a(), 0, 1100);
  EXPECT_EQ(early->outcome, Outcome::kSuspend);
  EXPECT_EQ(services_[0].fetches.size(), 1u);
  EXPECT_TRUE(resumers_[0].resumed.empty());

  services_[0].complete(0, 200, jwks({key_a_}));
  EXPECT_THAT(resumers_[0].resumed, ElementsAre(Pair(early.get(), 7u)));
  rerun(*early, 1200);
  EXPECT_EQ(early->outcome, Outcome::kProceed);
  EXPECT_EQ(early->attribute("jwt.sub"), "alice");
  EXPECT_EQ(counters(0).verified, 1u) << "the suspended attempt is no verdict";

  // The set is published to every worker.
  EXPECT_EQ(send(token_a(), 1, 1300)->outcome, Outcome::kProceed);
  EXPECT_TRUE(services_[1].fetches.empty());
  EXPECT_EQ(counters(0).jwks_fetches, 1u);
  EXPECT_EQ(counters(0).jwks_updates, 1u);
  EXPECT_EQ(counters(0).jwks_failures, 0u);
  uint64_t version = 0;
  const KeySetPtr set = static_cast<const JwtFilter&>(*filter_).key_store().current(&version);
  ASSERT_EQ(set->keys().size(), 1u);
  EXPECT_EQ(set->keys()[0].origin, "http://idp/jwks.json key 1 (kid \"a\")");
}

TEST_F(JwksUrlTest, PeriodicRefreshAndRetries) {
  build("cache_ttl: 1h\n");
  const int64_t t0 = 5000;
  EXPECT_EQ(timer(0, t0), t0 + 10'000);
  services_[0].complete(0, 200, jwks({key_a_}));
  // Success: nothing more until jwks_refresh after the start of that fetch.
  EXPECT_EQ(timer(0, t0 + 10'000), t0 + 60'000);
  EXPECT_EQ(services_[0].fetches.size(), 1u);
  const std::string a = token_a();
  EXPECT_EQ(send(a, 0, t0 + 20'000)->outcome, Outcome::kProceed);
  EXPECT_EQ(send(a, 0, t0 + 21'000)->outcome, Outcome::kProceed);
  EXPECT_EQ(counters(0).cache_hits, 1u);

  // Due: fetch 2 fails (500): retried jwks_min_refresh after it started.
  EXPECT_EQ(timer(0, t0 + 60'000), t0 + 70'000);
  ASSERT_EQ(services_[0].fetches.size(), 2u);
  services_[0].complete(1, 500, jwks({key_b_}));
  EXPECT_EQ(timer(0, t0 + 70'000), t0 + 80'000);
  ASSERT_EQ(services_[0].fetches.size(), 3u) << "retry";
  // Fetch 3 answers the set already in place: no update, the caches survive.
  services_[0].complete(2, 200, jwks({key_a_}));
  EXPECT_EQ(timer(0, t0 + 80'000), t0 + 70'000 + 60'000);
  EXPECT_EQ(services_[0].fetches.size(), 3u);
  EXPECT_EQ(send(a, 0, t0 + 81'000)->outcome, Outcome::kProceed);
  EXPECT_EQ(counters(0).cache_hits, 2u) << "an unchanged set keeps the token cache";
  EXPECT_EQ(counters(0).jwks_fetches, 3u);
  EXPECT_EQ(counters(0).jwks_failures, 1u);
  EXPECT_EQ(counters(0).jwks_updates, 1u);

  // Next: a changed set replaces the keys and empties the caches.
  EXPECT_EQ(timer(0, t0 + 130'000), t0 + 140'000);
  services_[0].complete(3, 200, jwks({key_b_}));
  EXPECT_EQ(counters(0).jwks_updates, 2u);
  EXPECT_EQ(send(token_b(), 0, t0 + 131'000)->outcome, Outcome::kProceed);
  // Key a was withdrawn (and the cache emptied): its token now asks for a
  // fetch, which brings the same set, and is refused.
  auto gone = send(a, 0, t0 + 132'000);
  ASSERT_EQ(gone->outcome, Outcome::kSuspend);
  ASSERT_EQ(services_[0].fetches.size(), 5u);
  services_[0].complete(4, 200, jwks({key_b_}));
  rerun(*gone, t0 + 132'001);
  EXPECT_EQ(description(*gone), "unknown signing key");
  EXPECT_EQ(counters(0).jwks_updates, 2u);

  // A successful fetch of any kind pushes the periodic one back; the engine
  // refusing a fetch counts as a failure, retried after jwks_min_refresh.
  EXPECT_EQ(timer(0, t0 + 190'000), t0 + 192'000);
  EXPECT_EQ(services_[0].fetches.size(), 5u);
  services_[0].refuse = true;
  EXPECT_EQ(timer(0, t0 + 192'000), t0 + 202'000);
  EXPECT_EQ(counters(0).jwks_fetches, 6u);
  EXPECT_EQ(counters(0).jwks_failures, 2u);
  services_[0].refuse = false;
  EXPECT_EQ(timer(0, t0 + 202'000), t0 + 212'000);
  EXPECT_EQ(services_[0].fetches.size(), 6u);
}

TEST_F(JwksUrlTest, AnUnknownKidFetchesAtOnceAndTheRequestWaits) {
  build();
  start_with(jwks({key_a_}));
  // The IdP rotates in key b; worker 1 sees its first token.
  auto first = send(token_b(), 1, 20'000);
  EXPECT_EQ(first->outcome, Outcome::kSuspend);
  ASSERT_EQ(services_[1].fetches.size(), 1u);
  EXPECT_EQ(services_[1].fetches[0].path, "/jwks.json");
  // Another one while the fetch is in flight joins it.
  auto second = send(token_b(), 1, 20'100);
  EXPECT_EQ(second->outcome, Outcome::kSuspend);
  EXPECT_EQ(services_[1].fetches.size(), 1u);
  // Worker 0 lost the race (one fetch per jwks_min_refresh): 401 at once.
  auto other = send(token_b(), 0, 20'200);
  EXPECT_EQ(other->outcome, Outcome::kRespond);
  EXPECT_EQ(description(*other), "unknown signing key");
  EXPECT_EQ(services_[0].fetches.size(), 1u);
  EXPECT_TRUE(resumers_[1].resumed.empty());

  services_[1].complete(0, 200, jwks({key_a_, key_b_}));
  EXPECT_THAT(resumers_[1].resumed, ElementsAre(Pair(first.get(), 7u), Pair(second.get(), 7u)));
  for (Exchange* x : {first.get(), second.get()}) {
    rerun(*x, 20'300);
    EXPECT_EQ(x->outcome, Outcome::kProceed);
    EXPECT_EQ(x->attribute("jwt.sub"), "alice");
  }
  EXPECT_EQ(send(token_b(), 0, 20'400)->outcome, Outcome::kProceed);
  EXPECT_EQ(send(token_a(), 1, 20'500)->outcome, Outcome::kProceed);
  EXPECT_EQ(counters(1).jwks_fetches, 1u);
  EXPECT_EQ(counters(1).jwks_updates, 1u);
  EXPECT_EQ(counters(1).verified, 3u);
  EXPECT_EQ(counters(1).accepted, 3u);
  EXPECT_EQ(counters(1).failed(), 0u);

  // Another unknown kid within jwks_min_refresh of that fetch: 401, no fetch,
  // on either worker.
  auto c1 = send(token_c(), 1, 29'999);
  EXPECT_EQ(c1->outcome, Outcome::kRespond);
  EXPECT_EQ(description(*c1), "unknown signing key");
  EXPECT_EQ(send(token_c(), 0, 29'999)->outcome, Outcome::kRespond);
  EXPECT_EQ(services_[0].fetches.size(), 1u);
  EXPECT_EQ(services_[1].fetches.size(), 1u);
  // Once the window has passed, the next one fetches again.
  auto c2 = send(token_c(), 0, 30'000);
  EXPECT_EQ(c2->outcome, Outcome::kSuspend);
  EXPECT_EQ(services_[0].fetches.size(), 2u);
}

TEST_F(JwksUrlTest, ARequestWaitsOnlyOnce) {
  build();
  start_with(jwks({key_a_}));
  auto x = send(token_b(), 1, 20'000);
  ASSERT_EQ(x->outcome, Outcome::kSuspend);
  services_[1].complete(0, 200, jwks({key_a_, key_c_}));  // still no b
  ASSERT_EQ(resumers_[1].resumed.size(), 1u);
  // Re-run after the window, so a second fetch would be allowed: none.
  rerun(*x, 40'000);
  EXPECT_EQ(x->outcome, Outcome::kRespond);
  EXPECT_EQ(x->status(), 401);
  EXPECT_EQ(description(*x), "unknown signing key");
  EXPECT_EQ(services_[1].fetches.size(), 1u);
  EXPECT_EQ(counters(1).failures[static_cast<size_t>(Failure::kUnknownKey)], 1u);
  // A token without a kid against several keys is "unknown key" too, and waits
  // like one (the set might shrink to one key).
  EXPECT_EQ(send(testing::token_with_key(TestKeys::get().rsa.get(), Alg::kRS256, R"({"alg":"RS256"})",
                                         claims()),
                 1, 40'001)
                ->outcome,
            Outcome::kSuspend);
}

TEST_F(JwksUrlTest, FailedFetchesKeepTheLastGoodSet) {
  build("jwks_max_bytes: 2KiB\n");
  start_with(jwks({key_a_}));
  const std::string padded = jwks({key_b_}) + std::string(3000, ' ');  // valid JSON, too large
  const std::string private_b = std::string(key_b_).insert(1, "\"d\":\"AAAA\",");
  struct Case {
    const char* name;
    int status;
    std::string body;
  };
  const std::vector<Case> cases = {
      {"no answer", 0, ""},
      {"500", 500, jwks({key_b_})},
      {"304", 304, ""},
      {"not JSON", 200, "<html>sign in</html>"},
      {"not a JWK set", 200, "[1,2,3]"},
      {"too large", 200, padded},
      {"private key", 200, jwks({private_b})},
      {"no usable key", 200, R"({"keys":[{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"}]})"},
      {"kid twice", 200, jwks({key_b_, testing::public_jwk(TestKeys::get().p256_other.get(), "b")})},
      {"no kid among several", 200, jwks({key_b_, testing::public_jwk(TestKeys::get().ed25519.get())})},
  };
  int64_t now = 20'000;
  for (size_t i = 0; i < cases.size(); ++i, now += 10'000) {
    SCOPED_TRACE(cases[i].name);
    auto x = send(token_b(), 1, now);
    ASSERT_EQ(x->outcome, Outcome::kSuspend);
    ASSERT_EQ(services_[1].fetches.size(), i + 1);
    services_[1].complete(i, cases[i].status, cases[i].body);
    ASSERT_EQ(resumers_[1].resumed.size(), i + 1) << "waiters are resumed on failure too";
    rerun(*x, now + 1);
    EXPECT_EQ(x->outcome, Outcome::kRespond);
    EXPECT_EQ(description(*x), "unknown signing key");
    EXPECT_EQ(send(token_a(), 1, now + 2)->outcome, Outcome::kProceed) << "the old set stays";
    EXPECT_EQ(counters(1).jwks_failures, i + 1);
  }
  EXPECT_EQ(counters(1).jwks_updates, 0u);
  // The engine refusing the fetch: counted, and the request is answered at once.
  services_[1].refuse = true;
  auto x = send(token_b(), 1, now);
  EXPECT_EQ(x->outcome, Outcome::kRespond);
  EXPECT_EQ(counters(1).jwks_failures, cases.size() + 1);
}

TEST_F(JwksUrlTest, StaticKeysStayAndWinOverFetchedOnes) {
  const TestKeys& k = TestKeys::get();
  dir_.write("c.pem", testing::public_pem(k.ed25519.get()));
  build("keys: [{file: c.pem, kid: c}]\n");
  EXPECT_EQ(send(token_c(), 1, 500)->outcome, Outcome::kProceed) << "usable before any fetch";
  // The fetched set claims kid c for another key: the configured one wins.
  start_with(jwks({key_a_, testing::public_jwk(k.p256_other.get(), "c")}));
  EXPECT_EQ(send(token_c(), 1, 2000)->outcome, Outcome::kProceed);
  EXPECT_EQ(send(token_a(), 1, 2001)->outcome, Outcome::kProceed);
  EXPECT_EQ(counters(0).jwks_updates, 1u);
  // The next set replaces the fetched keys only.
  timer(0, 61'000);
  services_[0].complete(1, 200, jwks({key_b_}));
  EXPECT_EQ(send(token_b(), 1, 62'000)->outcome, Outcome::kProceed);
  EXPECT_EQ(send(token_c(), 1, 62'001)->outcome, Outcome::kProceed);
  auto a = send(token_a(), 1, 62'002);
  EXPECT_EQ(a->outcome, Outcome::kSuspend) << "a is gone; worker 1 asks again";
  uint64_t version = 0;
  const KeySetPtr set = static_cast<const JwtFilter&>(*filter_).key_store().current(&version);
  ASSERT_EQ(set->keys().size(), 2u);
  EXPECT_EQ(set->keys()[0].origin, "c.pem");
}

TEST_F(JwksUrlTest, AnAnswerOlderThanTheSetInPlaceIsNotApplied) {
  build();
  start_with(jwks({key_a_}));
  // Worker 1 starts a fetch (unknown kid b), then worker 0 its periodic one;
  // the later fetch answers first with the newer set.
  auto x = send(token_b(), 1, 20'000);
  ASSERT_EQ(x->outcome, Outcome::kSuspend);
  timer(0, 61'000);
  ASSERT_EQ(services_[0].fetches.size(), 2u);
  services_[0].complete(1, 200, jwks({key_a_, key_b_, key_c_}));
  services_[1].complete(0, 200, jwks({key_a_}));
  rerun(*x, 61'100);
  EXPECT_EQ(x->outcome, Outcome::kProceed) << "the older answer did not take b away";
  EXPECT_EQ(send(token_c(), 0, 61'200)->outcome, Outcome::kProceed);
  EXPECT_EQ(counters(1).jwks_failures, 0u);
  EXPECT_EQ(counters(1).jwks_updates, 0u);
}

TEST_F(JwksUrlTest, WithoutServicesNothingWaits) {
  build();
  // A context without WorkerServices (as in tools that drive the phase alone).
  Exchange x;
  x.header("Authorization", "Bearer " + token_a());
  x.ctx.request = &x.head;
  x.ctx.unix_ms = kNowMs;
  x.ctx.begin(1, &states_[1], nullptr, nullptr, 0);
  x.ctx.enter(0);
  EXPECT_EQ(filter_->on_request_head(x.ctx), Outcome::kRespond);
  EXPECT_EQ(description(x), "unknown signing key");
}

TEST_F(JwksUrlTest, CountersAreReported) {
  build();
  start_with(jwks({key_a_}));
  std::vector<std::pair<std::string_view, uint64_t>> out;
  workers_[0]->report(out);
  EXPECT_THAT(out, ::testing::IsSupersetOf({Pair("jwks_fetches", 1u), Pair("jwks_failures", 0u),
                                           Pair("jwks_updates", 1u)}));
  // Not listed for a filter without jwks_url.
  dir_.write("keys.json", jwks({key_a_}));
  testing::Harness h(dir_);
  ASSERT_TRUE(h.build("type: jwt\njwks_file: keys.json\n")) << h.error();
  out.clear();
  h.worker().report(out);
  for (const auto& [name, value] : out) EXPECT_EQ(name.find("jwks"), std::string_view::npos) << name;
  EXPECT_EQ(h.worker().on_timer(0, services_[0]), INT64_MAX);
}

}  // namespace
}  // namespace ringway::filters::jwt
