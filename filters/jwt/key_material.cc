#include "filters/jwt/key_material.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstring>

namespace ringway::filters::jwt {
namespace {

// OpenSSL keeps failures in a per-thread queue; a failed parse must not leave
// entries behind for an unrelated caller to trip over.
struct ClearErrors {
  ~ClearErrors() { ERR_clear_error(); }
};

struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct BldFree {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct DecoderFree {
  void operator()(OSSL_DECODER_CTX* p) const { OSSL_DECODER_CTX_free(p); }
};
struct GroupFree {
  void operator()(EC_GROUP* p) const { EC_GROUP_free(p); }
};

using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

// Builds a public key of `type` ("RSA", "EC") from parameters.
PkeyPtr from_params(const char* type, OSSL_PARAM* params) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
    return nullptr;
  return PkeyPtr(pkey);
}

// Range and on-curve checks a key from untrusted parameters must pass.
bool public_check(EVP_PKEY* pkey) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  return ctx && EVP_PKEY_public_check(ctx.get()) == 1;
}

std::string group_name(EVP_PKEY* pkey) {
  char name[64];
  size_t len = 0;
  if (EVP_PKEY_get_group_name(pkey, name, sizeof name, &len) != 1) return "";
  return std::string(name, len);
}

std::string_view jwk_curve_of_group(const std::string& group) {
  if (group == "prime256v1") return "P-256";
  if (group == "secp384r1") return "P-384";
  if (group == "secp521r1") return "P-521";
  return "";
}

const char* group_of_jwk_curve(std::string_view curve) {
  if (curve == "P-256") return "prime256v1";
  if (curve == "P-384") return "secp384r1";
  if (curve == "P-521") return "secp521r1";
  return nullptr;
}

size_t coordinate_size(std::string_view curve) {
  if (curve == "P-256") return 32;
  if (curve == "P-384") return 48;
  if (curve == "P-521") return 66;
  return 0;
}

EVP_MAC* hmac_algorithm() {
  // Fetched once for the process: a fetch takes the provider store's lock.
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

}  // namespace

PkeyPtr pem_public_key(std::string_view pem, std::string* error) {
  ClearErrors clear;
  if (pem.find("PRIVATE KEY-----") != std::string_view::npos) {
    *error = "holds a private key; give the public key only (openssl pkey -in KEY -pubout)";
    return nullptr;
  }
  if (pem.find("-----BEGIN CERTIFICATE-----") != std::string_view::npos) {
    std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    std::unique_ptr<X509, X509Free> cert(
        bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    EVP_PKEY* pkey = cert ? X509_get_pubkey(cert.get()) : nullptr;
    if (pkey == nullptr) *error = "is not a readable PEM certificate";
    return PkeyPtr(pkey);
  }
  // The decoder reads both SubjectPublicKeyInfo ("PUBLIC KEY") and PKCS#1
  // ("RSA PUBLIC KEY"), and only public keys (the selection).
  EVP_PKEY* pkey = nullptr;
  std::unique_ptr<OSSL_DECODER_CTX, DecoderFree> dctx(OSSL_DECODER_CTX_new_for_pkey(
      &pkey, "PEM", nullptr, nullptr, EVP_PKEY_PUBLIC_KEY, nullptr, nullptr));
  const auto* data = reinterpret_cast<const unsigned char*>(pem.data());
  size_t len = pem.size();
  if (!dctx || OSSL_DECODER_from_data(dctx.get(), &data, &len) != 1 || pkey == nullptr) {
    EVP_PKEY_free(pkey);
    *error = "holds no PEM public key or certificate";
    return nullptr;
  }
  return PkeyPtr(pkey);
}

PkeyPtr rsa_public_key(std::string_view n, std::string_view e, std::string* error) {
  ClearErrors clear;
  // OpenSSL refuses to verify with moduli above 16384 bits, and checking a
  // huge one at load (a primality test) would take a long time.
  while (!n.empty() && n.front() == '\0') n.remove_prefix(1);
  if (n.size() > 16384 / 8 || e.size() > 32) {
    *error = "has an RSA modulus over 16384 bits or an exponent over 256 bits";
    return nullptr;
  }
  std::unique_ptr<BIGNUM, BnFree> bn_n(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr));
  std::unique_ptr<BIGNUM, BnFree> bn_e(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr));
  std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get())) {
    *error = "cannot build the RSA key";
    return nullptr;
  }
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyPtr pkey = params ? from_params("RSA", params.get()) : nullptr;
  if (!pkey || !public_check(pkey.get())) {
    *error = "is not a valid RSA public key";
    return nullptr;
  }
  return pkey;
}

PkeyPtr ec_public_key(std::string_view curve, std::string_view x, std::string_view y,
                      std::string* error) {
  ClearErrors clear;
  const char* group = group_of_jwk_curve(curve);
  if (group == nullptr) {
    *error = "has unsupported curve \"" + std::string(curve) + "\" (P-256, P-384, P-521)";
    return nullptr;
  }
  // RFC 7518 6.2.1.2: x and y are the full coordinate size, leading zeros kept.
  const size_t size = coordinate_size(curve);
  if (x.size() != size || y.size() != size) {
    *error = "has x or y of the wrong length for " + std::string(curve) + " (" +
             std::to_string(size) + " bytes each)";
    return nullptr;
  }
  std::string point;
  point.reserve(1 + 2 * size);
  point += '\x04';  // uncompressed point
  point.append(x);
  point.append(y);
  std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size())) {
    *error = "cannot build the EC key";
    return nullptr;
  }
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyPtr pkey = params ? from_params("EC", params.get()) : nullptr;
  if (!pkey || !public_check(pkey.get())) {
    *error = "is not a valid " + std::string(curve) + " public key (point not on the curve?)";
    return nullptr;
  }
  return pkey;
}

PkeyPtr ed25519_public_key(std::string_view x, std::string* error) {
  ClearErrors clear;
  if (x.size() != 32) {
    *error = "has an Ed25519 public key of " + std::to_string(x.size()) + " bytes (32 expected)";
    return nullptr;
  }
  PkeyPtr pkey(EVP_PKEY_new_raw_public_key_ex(
      nullptr, "ED25519", nullptr, reinterpret_cast<const unsigned char*>(x.data()), x.size()));
  if (!pkey) *error = "is not a valid Ed25519 public key";
  return pkey;
}

std::optional<Alg> implied_alg(EVP_PKEY* pkey, bool rsa_default) {
  switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_EC: {
      const std::string_view curve = jwk_curve_of_group(group_name(pkey));
      if (curve == "P-256") return Alg::kES256;
      if (curve == "P-384") return Alg::kES384;
      if (curve == "P-521") return Alg::kES512;
      return std::nullopt;
    }
    case EVP_PKEY_ED25519:
      return Alg::kEdDSA;
    case EVP_PKEY_RSA:
      if (rsa_default) return Alg::kRS256;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

std::string describe_key(EVP_PKEY* pkey) {
  switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA:
      return "an RSA " + std::to_string(EVP_PKEY_get_bits(pkey)) + "-bit key";
    case EVP_PKEY_RSA_PSS:
      return "an RSA-PSS " + std::to_string(EVP_PKEY_get_bits(pkey)) + "-bit key";
    case EVP_PKEY_EC: {
      std::string group = group_name(pkey);
      std::string_view curve = jwk_curve_of_group(group);
      return "an EC " + (curve.empty() ? group : std::string(curve)) + " key";
    }
    case EVP_PKEY_ED25519:
      return "an Ed25519 key";
    case EVP_PKEY_ED448:
      return "an Ed448 key";
    default:
      return "a key of an unsupported type";
  }
}

std::string make_public_key(PkeyPtr pkey, Alg alg, Key* key) {
  ClearErrors clear;
  const int type = EVP_PKEY_get_base_id(pkey.get());
  const std::string name(alg_name(alg));
  const std::string mismatch = "is " + describe_key(pkey.get()) + ", which cannot verify " + name;
  switch (alg_family(alg)) {
    case AlgFamily::kHmac:
      // A public key used as an HMAC secret is the classic key-confusion
      // attack; the config cannot even express it.
      return "is a public key; " + name + " needs a secret (secret_file)";
    case AlgFamily::kRsa:
    case AlgFamily::kRsaPss: {
      // An RSA-PSS-restricted key may only make PSS signatures.
      const bool ok = type == EVP_PKEY_RSA ||
                      (type == EVP_PKEY_RSA_PSS && alg_family(alg) == AlgFamily::kRsaPss);
      if (!ok) return mismatch;
      // RFC 7518 3.3 and 3.5: 2048 bits or larger MUST be used.
      if (EVP_PKEY_get_bits(pkey.get()) < 2048)
        return "is " + describe_key(pkey.get()) + "; " + name + " needs at least 2048 bits";
      break;
    }
    case AlgFamily::kEcdsa: {
      if (type != EVP_PKEY_EC) return mismatch;
      const std::string group = group_name(pkey.get());
      if (group != alg_openssl_group(alg)) return mismatch;
      std::unique_ptr<EC_GROUP, GroupFree> g(EC_GROUP_new_by_curve_name(OBJ_sn2nid(group.c_str())));
      const BIGNUM* order = g ? EC_GROUP_get0_order(g.get()) : nullptr;
      const size_t size = alg_ecdsa_coordinate_size(alg);
      key->ecdsa_order.assign(size, '\0');
      if (order == nullptr ||
          BN_bn2binpad(order, reinterpret_cast<unsigned char*>(key->ecdsa_order.data()),
                       static_cast<int>(size)) != static_cast<int>(size))
        return "cannot read the curve order of " + describe_key(pkey.get());
      break;
    }
    case AlgFamily::kEdDSA:
      if (type != EVP_PKEY_ED25519) return mismatch;
      break;
  }
  key->alg = alg;
  key->pkey = std::move(pkey);
  return "";
}

std::string make_hmac_key(std::string_view secret, Alg alg, Key* key) {
  ClearErrors clear;
  if (alg_family(alg) != AlgFamily::kHmac)
    return "is a secret; " + std::string(alg_name(alg)) + " needs a public key";
  const size_t need = alg_hash_size(alg);
  if (secret.size() < need)
    return "is " + std::to_string(secret.size()) + " bytes; " + std::string(alg_name(alg)) +
           " needs a secret of at least " + std::to_string(need) + " bytes (RFC 7518 3.2)";
  EVP_MAC* mac = hmac_algorithm();
  MacCtxPtr ctx(mac ? EVP_MAC_CTX_new(mac) : nullptr);
  char digest[16];
  std::strncpy(digest, alg_digest(alg), sizeof digest - 1);
  digest[sizeof digest - 1] = '\0';
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end(),
  };
  if (!ctx || EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(secret.data()),
                           secret.size(), params) != 1)
    return "cannot set up HMAC";
  key->alg = alg;
  key->hmac = std::move(ctx);
  return "";
}

}  // namespace ringway::filters::jwt
