#pragma once
// Shared by the jwt filter tests: keys made in-process with OpenSSL, tokens
// signed with them, temp key files, and a harness that builds the filter from
// YAML and drives its request-head phase the way the engine does.

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/yaml_reader.h"
#include "engine/filter/filter.h"
#include "filters/jwt/algorithm.h"
#include "filters/jwt/base64url.h"
#include "filters/jwt/jwt_filter.h"
#include "filters/jwt/jwt_filter_impl.h"
#include "filters/jwt/jwt_worker.h"
#include "filters/registry.h"

namespace ringway::filters::jwt::testing {

// A fixed "now" for tests: 2023-11-14T22:13:20Z.
inline constexpr int64_t kNowS = 1'700'000'000;
inline constexpr int64_t kNowMs = kNowS * 1000;

inline std::string b64(std::string_view s) { return base64url_encode(s); }

// ---- keys ----

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

inline Pkey generate(const char* type, const char* group_or_null, size_t rsa_bits = 0) {
  EVP_PKEY* k = nullptr;
  if (rsa_bits != 0) k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", rsa_bits);
  else if (group_or_null != nullptr) k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group_or_null);
  else k = EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  EXPECT_NE(k, nullptr) << "key generation failed";
  return Pkey(k);
}

// Generated once per test binary (RSA key generation takes a while).
struct TestKeys {
  Pkey rsa = generate("RSA", nullptr, 2048);
  Pkey rsa_other = generate("RSA", nullptr, 2048);
  Pkey p256 = generate("EC", "P-256");
  Pkey p384 = generate("EC", "P-384");
  Pkey p521 = generate("EC", "P-521");
  Pkey p256_other = generate("EC", "P-256");
  Pkey ed25519 = generate("ED25519", nullptr);
  static const TestKeys& get() {
    static const TestKeys keys;
    return keys;
  }
};

inline const EVP_MD* md_for(Alg alg) {
  switch (alg_hash_size(alg)) {
    case 32: return EVP_sha256();
    case 48: return EVP_sha384();
    case 64: return EVP_sha512();
    default: return nullptr;
  }
}

// DER ECDSA signature -> JWS R || S.
inline std::string der_to_raw(const std::string& der, size_t size) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  EXPECT_NE(sig, nullptr);
  std::string raw(2 * size, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(size));
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + size,
               static_cast<int>(size));
  ECDSA_SIG_free(sig);
  return raw;
}

// A JWS signature over `input` with a private key.
inline std::string sign_with(EVP_PKEY* key, Alg alg, std::string_view input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* md = alg == Alg::kEdDSA ? nullptr : md_for(alg);
  EXPECT_EQ(EVP_DigestSignInit(ctx, &pctx, md, nullptr, key), 1);
  if (alg_family(alg) == AlgFamily::kRsaPss) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md);
  }
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  EXPECT_EQ(EVP_DigestSign(ctx, nullptr, &len, in, input.size()), 1);
  std::string sig(len, '\0');
  EXPECT_EQ(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, in, input.size()), 1);
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  if (alg_family(alg) == AlgFamily::kEcdsa) return der_to_raw(sig, alg_ecdsa_coordinate_size(alg));
  return sig;
}

inline std::string hmac_with(std::string_view secret, Alg alg, std::string_view input) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md_for(alg), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

inline std::string signing_input(std::string_view header_json, std::string_view payload_json) {
  return b64(header_json) + "." + b64(payload_json);
}

inline std::string token_with_key(EVP_PKEY* key, Alg alg, std::string_view header_json,
                                  std::string_view payload_json) {
  const std::string in = signing_input(header_json, payload_json);
  return in + "." + b64(sign_with(key, alg, in));
}

inline std::string token_with_secret(std::string_view secret, Alg alg, std::string_view header_json,
                                     std::string_view payload_json) {
  const std::string in = signing_input(header_json, payload_json);
  return in + "." + b64(hmac_with(secret, alg, in));
}

// ---- key formats ----

inline std::string public_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  return pem;
}

inline std::string private_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  return pem;
}

inline std::string bn_param(EVP_PKEY* key, const char* name, int pad = 0) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, name, &bn), 1) << name;
  std::string out(pad != 0 ? static_cast<size_t>(pad) : static_cast<size_t>(BN_num_bytes(bn)), '\0');
  if (pad != 0) BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), pad);
  else BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

// The public JWK of a key, with optional kid and alg members.
inline std::string public_jwk(EVP_PKEY* key, std::string_view kid = "", std::string_view alg = "") {
  std::string extra;
  if (!kid.empty()) extra += ",\"kid\":\"" + std::string(kid) + "\"";
  if (!alg.empty()) extra += ",\"alg\":\"" + std::string(alg) + "\"";
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      return "{\"kty\":\"RSA\",\"n\":\"" + b64(bn_param(key, OSSL_PKEY_PARAM_RSA_N)) +
             "\",\"e\":\"" + b64(bn_param(key, OSSL_PKEY_PARAM_RSA_E)) + "\"" + extra + "}";
    case EVP_PKEY_EC: {
      char group[32];
      size_t len = 0;
      EVP_PKEY_get_group_name(key, group, sizeof group, &len);
      const std::string g(group, len);
      const char* crv = g == "prime256v1" ? "P-256" : g == "secp384r1" ? "P-384" : "P-521";
      const int size = g == "prime256v1" ? 32 : g == "secp384r1" ? 48 : 66;
      return "{\"kty\":\"EC\",\"crv\":\"" + std::string(crv) + "\",\"x\":\"" +
             b64(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, size)) + "\",\"y\":\"" +
             b64(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, size)) + "\"" + extra + "}";
    }
    case EVP_PKEY_ED25519: {
      unsigned char raw[32];
      size_t len = sizeof raw;
      EVP_PKEY_get_raw_public_key(key, raw, &len);
      return "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" +
             b64(std::string_view(reinterpret_cast<char*>(raw), len)) + "\"" + extra + "}";
    }
    default:
      ADD_FAILURE() << "unsupported key type";
      return "";
  }
}

// ---- files ----

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ringway-jwt-XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  void write(const std::string& name, std::string_view content) const {
    std::ofstream out(path_ + "/" + name, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
  }

 private:
  std::string path_;
};

// ---- the filter ----

// One request through the filter's request-head phase.
struct Exchange {
  std::deque<std::string> storage;  // backs the views in `head`
  http::RequestHead head;
  filter::Context ctx;
  filter::Outcome outcome = filter::Outcome::kProceed;

  Exchange& header(std::string name, std::string value) {
    const std::string& n = storage.emplace_back(std::move(name));
    const std::string& v = storage.emplace_back(std::move(value));
    head.headers.push_back({n, v});
    return *this;
  }
  Exchange& query(std::string q) {
    head.query = storage.emplace_back(std::move(q));
    return *this;
  }

  int status() { return ctx.local().status; }
  std::string response_header(std::string_view name) {
    for (const auto& h : ctx.local().headers)
      if (http::iequals(h.name, name)) return std::string(h.value);
    return "";
  }
  std::string body() { return std::string(ctx.local().body); }
  std::vector<std::string> request_headers(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& h : head.headers)
      if (http::iequals(h.name, name)) out.emplace_back(h.value);
    return out;
  }
  std::string attribute(std::string_view key) const { return std::string(ctx.attribute(key)); }
};

class Harness {
 public:
  // `filter_yaml` is the filter's own map (type: jwt, ...), as in filters.<name>.
  // On a config error, error() is "t.yaml:LINE:COL: message" and filter() null.
  explicit Harness(const TempDir& dir) : dir_(dir) {}

  bool build(const std::string& filter_yaml) {
    filter_.reset();
    worker_.reset();
    error_.clear();
    config_.source_file = dir_.path() + "/t.yaml";
    YAML::Node node = YAML::Load(filter_yaml);
    config::FilterSpec spec{"auth", "jwt", std::make_shared<const YAML::Node>(node), "filters.auth"};
    config::detail::Field field{YAML::Node(), node, "filters.auth"};
    try {
      filter_ = compile_jwt(FilterBuild{spec, field, config_});
    } catch (const config::detail::ConfigError& e) {
      error_ = config::detail::format_error("t.yaml", e.mark, e.message);
      return false;
    }
    worker_ = filter_->make_worker_state(0);
    states_[0] = worker_.get();
    return true;
  }

  // The config the filter is built against: jwks_url needs its upstreams.
  void add_upstream(const std::string& name) {
    config_.upstreams.emplace_back();
    config_.upstreams.back().name = name;
  }

  const std::string& error() const { return error_; }
  const filter::Filter* filter() const { return filter_.get(); }
  const JwtFilter& jwt() const { return static_cast<const JwtFilter&>(*filter_); }
  JwtWorkerState& worker() { return static_cast<JwtWorkerState&>(*worker_); }
  const JwtCounters& counters() const { return *jwt_counters(worker_.get()); }

  // Runs `x` (headers already set) at `now_ms`.
  Exchange& run(Exchange& x, int64_t now_ms = kNowMs) {
    x.ctx.request = &x.head;
    x.ctx.unix_ms = now_ms;
    x.ctx.begin(1, states_, nullptr, nullptr, 0);
    x.ctx.enter(0);
    x.outcome = filter_->on_request_head(x.ctx);
    return x;
  }

  // A request with "Authorization: Bearer <token>".
  std::unique_ptr<Exchange> bearer(const std::string& token, int64_t now_ms = kNowMs) {
    auto x = std::make_unique<Exchange>();
    x->header("Authorization", "Bearer " + token);
    run(*x, now_ms);
    return x;
  }

 private:
  const TempDir& dir_;
  config::Config config_;
  std::shared_ptr<const filter::Filter> filter_;
  std::unique_ptr<filter::WorkerState> worker_;
  filter::WorkerState* states_[1] = {nullptr};
  std::string error_;
};

}  // namespace ringway::filters::jwt::testing
