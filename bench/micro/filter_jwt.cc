// The jwt filter's request-head phase, per algorithm, with the per-worker
// verified-token cache hitting and with it disabled (every request verifies
// the signature and parses the claims).
//
//   ringway-micro-jwt [--benchmark_filter=RS256]
//
// Each iteration resets the context and restores the request's headers the
// way a new request would have them; BM_Jwt_Overhead measures that part alone.
// Keys are made in-process (OpenSSL); tokens carry a typical claims set.

#include <benchmark/benchmark.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <string>

#include "engine/filter/filter.h"
#include "filters/jwt/base64url.h"
#include "filters/jwt/jwt_filter_impl.h"
#include "filters/jwt/key_material.h"

namespace {

using namespace ringway;
using namespace ringway::filters::jwt;

constexpr int64_t kNowS = 1'700'000'000;

const EVP_MD* md_for(Alg alg) {
  switch (alg_hash_size(alg)) {
    case 48: return EVP_sha384();
    case 64: return EVP_sha512();
    default: return EVP_sha256();
  }
}

std::string sign(EVP_PKEY* key, Alg alg, const std::string& input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  EVP_DigestSignInit(ctx, &pctx, alg == Alg::kEdDSA ? nullptr : md_for(alg), nullptr, key);
  if (alg_family(alg) == AlgFamily::kRsaPss) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
  }
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  EVP_DigestSign(ctx, nullptr, &len, in, input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, in, input.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  if (alg_family(alg) != AlgFamily::kEcdsa) return sig;
  // DER -> R || S
  const size_t size = alg_ecdsa_coordinate_size(alg);
  const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  std::string raw(2 * size, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(size));
  BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + size,
               static_cast<int>(size));
  ECDSA_SIG_free(es);
  return raw;
}

std::string public_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  return pem;
}

// A filter with one key for `alg`, and a token it accepts.
struct Setup {
  std::unique_ptr<JwtFilter> filter;
  std::string token;
};

Setup make(Alg alg, size_t cache_entries) {
  const std::string header = R"({"alg":")" + std::string(alg_name(alg)) + R"(","typ":"JWT","kid":"k1"})";
  const std::string claims = R"({"iss":"https://issuer.example","aud":"api","sub":"user-12345",)"
                             R"("email":"user@example.com","scope":"read write","iat":)" +
                             std::to_string(kNowS) + ",\"exp\":" + std::to_string(kNowS + 3600) + "}";
  const std::string input = base64url_encode(header) + "." + base64url_encode(claims);

  Key key;
  key.kid = "k1";
  std::string signature, error;
  if (alg_family(alg) == AlgFamily::kHmac) {
    const std::string secret(64, 'k');
    make_hmac_key(secret, alg, &key);
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(md_for(alg), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), out, &len);
    signature.assign(reinterpret_cast<char*>(out), len);
  } else {
    EVP_PKEY* pkey = nullptr;
    switch (alg_family(alg)) {
      case AlgFamily::kRsa:
      case AlgFamily::kRsaPss:
        pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
        break;
      case AlgFamily::kEcdsa:
        pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", alg_openssl_group(alg));
        break;
      default:
        pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
        break;
    }
    make_public_key(pem_public_key(public_pem(pkey), &error), alg, &key);
    signature = sign(pkey, alg, input);
    EVP_PKEY_free(pkey);
  }
  std::vector<Key> keys;
  keys.push_back(std::move(key));

  JwtSettings s;
  s.keys = std::make_shared<const KeySet>(std::move(keys));
  s.policy.issuers = {"https://issuer.example"};
  s.policy.audiences = {"api"};
  s.policy.scopes = {"read"};
  s.policy.forward_claims = {"sub", "email"};
  s.forward_headers = {"X-User-Id", "X-User-Email"};
  s.sources.push_back(TokenSource{});
  s.cache_entries = cache_entries;
  return Setup{std::make_unique<JwtFilter>(std::move(s)), input + "." + base64url_encode(signature)};
}

void run(benchmark::State& state, Alg alg, bool cache) {
  Setup setup = make(alg, cache ? 10000 : 0);
  auto worker = setup.filter->make_worker_state(0);
  filter::WorkerState* states[1] = {worker.get()};
  const std::string authorization = "Bearer " + setup.token;
  http::RequestHead base;
  base.method = "GET";
  base.path = "/api/items";
  base.headers.push_back({"Host", "api.example"});
  base.headers.push_back({"Accept", "application/json"});
  base.headers.push_back({"Authorization", authorization});
  base.headers.push_back({"User-Agent", "bench/1.0"});
  http::RequestHead head;
  filter::Context ctx;
  for (auto _ : state) {
    head.headers = base.headers;
    ctx.reset();
    ctx.request = &head;
    ctx.unix_ms = kNowS * 1000;
    ctx.begin(1, states, nullptr, nullptr, 0);
    ctx.enter(0);
    filter::Outcome out = setup.filter->on_request_head(ctx);
    if (out != filter::Outcome::kProceed) {
      state.SkipWithError("token refused");
      break;
    }
    benchmark::DoNotOptimize(out);
  }
  state.SetLabel(cache ? "cache hit" : "cache off (verify every time)");
}

void BM_Jwt_Overhead(benchmark::State& state) {
  http::RequestHead base;
  base.headers.push_back({"Host", "api.example"});
  base.headers.push_back({"Authorization", "Bearer x"});
  http::RequestHead head;
  filter::Context ctx;
  for (auto _ : state) {
    head.headers = base.headers;
    ctx.reset();
    ctx.request = &head;
    ctx.begin(1, nullptr, nullptr, nullptr, 0);
    ctx.enter(0);
    benchmark::DoNotOptimize(ctx.request);
  }
}
BENCHMARK(BM_Jwt_Overhead);

#define JWT_BENCH(ALG)                                                                       \
  void BM_Jwt_##ALG##_CacheHit(benchmark::State& s) { run(s, Alg::k##ALG, true); }           \
  void BM_Jwt_##ALG##_CacheOff(benchmark::State& s) { run(s, Alg::k##ALG, false); }          \
  BENCHMARK(BM_Jwt_##ALG##_CacheHit);                                                        \
  BENCHMARK(BM_Jwt_##ALG##_CacheOff);

JWT_BENCH(HS256)
JWT_BENCH(RS256)
JWT_BENCH(PS256)
JWT_BENCH(ES256)
JWT_BENCH(EdDSA)

}  // namespace

BENCHMARK_MAIN();
