#include "filters/jwt/signature.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include <cstring>

namespace ringway::filters::jwt {
namespace {

// Digests fetched once per process. EVP_sha256() and friends return legacy
// descriptors that OpenSSL 3 re-fetches (under the provider store's lock) on
// every use; a fetched EVP_MD skips that.
const EVP_MD* digest(Alg alg) {
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  static EVP_MD* const sha384 = EVP_MD_fetch(nullptr, "SHA2-384", nullptr);
  static EVP_MD* const sha512 = EVP_MD_fetch(nullptr, "SHA2-512", nullptr);
  switch (alg_hash_size(alg)) {
    case 32: return sha256;
    case 48: return sha384;
    case 64: return sha512;
    default: return nullptr;
  }
}

bool verify_hmac(const Key& key, std::string_view input, std::string_view signature) {
  // The tag length is public (it is fixed by the alg); only the bytes are
  // compared in constant time.
  if (signature.size() != alg_hash_size(key.alg)) return false;
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(key.hmac.get());
  if (ctx == nullptr) return false;
  unsigned char tag[EVP_MAX_MD_SIZE];
  size_t tag_len = 0;
  const bool ok =
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1 &&
      EVP_MAC_final(ctx, tag, &tag_len, sizeof tag) == 1 && tag_len == signature.size() &&
      CRYPTO_memcmp(tag, signature.data(), tag_len) == 0;
  EVP_MAC_CTX_free(ctx);
  return ok;
}

// DER INTEGER for an unsigned big-endian value: minimal length, with a 0x00
// in front when the top bit is set (DER integers are signed).
size_t der_integer(const unsigned char* v, size_t n, unsigned char* out) {
  while (n > 1 && v[0] == 0) {
    ++v;
    --n;
  }
  const bool pad = (v[0] & 0x80) != 0;
  size_t o = 0;
  out[o++] = 0x02;
  out[o++] = static_cast<unsigned char>(n + (pad ? 1 : 0));  // <= 67, short form
  if (pad) out[o++] = 0x00;
  std::memcpy(out + o, v, n);
  return o + n;
}

bool all_zero(const unsigned char* v, size_t n) {
  unsigned char acc = 0;
  for (size_t i = 0; i < n; ++i) acc |= v[i];
  return acc == 0;
}

}  // namespace

SignatureScratch::SignatureScratch() : md_(EVP_MD_CTX_new()) {}
SignatureScratch::~SignatureScratch() { EVP_MD_CTX_free(md_); }

size_t ecdsa_der(std::string_view raw, std::string_view order, unsigned char* der) {
  const size_t size = order.size();
  if (size == 0 || raw.size() != 2 * size) return 0;
  const auto* r = reinterpret_cast<const unsigned char*>(raw.data());
  const auto* s = r + size;
  const auto* n = reinterpret_cast<const unsigned char*>(order.data());
  // Same-length big-endian values compare like byte strings.
  if (all_zero(r, size) || all_zero(s, size)) return 0;
  if (std::memcmp(r, n, size) >= 0 || std::memcmp(s, n, size) >= 0) return 0;
  unsigned char body[2 * (2 + 67)];
  size_t body_len = der_integer(r, size, body);
  body_len += der_integer(s, size, body + body_len);
  size_t o = 0;
  der[o++] = 0x30;
  if (body_len >= 0x80) der[o++] = 0x81;  // P-521 bodies reach 138 bytes
  der[o++] = static_cast<unsigned char>(body_len);
  std::memcpy(der + o, body, body_len);
  return o + body_len;
}

bool verify_signature(const Key& key, std::string_view input, std::string_view signature,
                      SignatureScratch& scratch) {
  const AlgFamily family = alg_family(key.alg);
  if (family == AlgFamily::kHmac) return key.hmac && verify_hmac(key, input, signature);
  if (!key.pkey) return false;

  const auto* sig = reinterpret_cast<const unsigned char*>(signature.data());
  size_t sig_len = signature.size();
  unsigned char der[kMaxEcdsaDer];
  switch (family) {
    case AlgFamily::kRsa:
    case AlgFamily::kRsaPss:
      // RFC 8017 8.2.2: the signature is exactly the modulus length.
      if (sig_len != static_cast<size_t>(EVP_PKEY_get_size(key.pkey.get()))) return false;
      break;
    case AlgFamily::kEcdsa:
      sig_len = ecdsa_der(signature, key.ecdsa_order, der);
      if (sig_len == 0) return false;
      sig = der;
      break;
    case AlgFamily::kEdDSA:
      if (sig_len != 64) return false;
      break;
    case AlgFamily::kHmac:
      break;
  }

  EVP_MD_CTX* ctx = scratch.md();
  EVP_MD_CTX_reset(ctx);
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* md = family == AlgFamily::kEdDSA ? nullptr : digest(key.alg);
  bool ok = EVP_DigestVerifyInit(ctx, &pctx, md, nullptr, key.pkey.get()) == 1;
  if (ok && family == AlgFamily::kRsaPss) {
    // RFC 7518 3.5: MGF1 with the same hash, salt as long as the hash.
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
  }
  ok = ok && EVP_DigestVerify(ctx, sig, sig_len, reinterpret_cast<const unsigned char*>(input.data()),
                              input.size()) == 1;
  EVP_MD_CTX_reset(ctx);
  if (!ok) ERR_clear_error();
  return ok;
}

}  // namespace ringway::filters::jwt
