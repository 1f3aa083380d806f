#include "filters/jwt/algorithm.h"

namespace ringway::filters::jwt {
namespace {

struct Info {
  std::string_view name;
  AlgFamily family;
  const char* digest;
  size_t hash_size;
};

// Indexed by Alg.
constexpr Info kInfo[] = {
    {"HS256", AlgFamily::kHmac, "SHA256", 32},   {"HS384", AlgFamily::kHmac, "SHA384", 48},
    {"HS512", AlgFamily::kHmac, "SHA512", 64},   {"RS256", AlgFamily::kRsa, "SHA256", 32},
    {"RS384", AlgFamily::kRsa, "SHA384", 48},    {"RS512", AlgFamily::kRsa, "SHA512", 64},
    {"PS256", AlgFamily::kRsaPss, "SHA256", 32}, {"PS384", AlgFamily::kRsaPss, "SHA384", 48},
    {"PS512", AlgFamily::kRsaPss, "SHA512", 64}, {"ES256", AlgFamily::kEcdsa, "SHA256", 32},
    {"ES384", AlgFamily::kEcdsa, "SHA384", 48},  {"ES512", AlgFamily::kEcdsa, "SHA512", 64},
    {"EdDSA", AlgFamily::kEdDSA, "", 0},
};

const Info& info(Alg alg) { return kInfo[static_cast<size_t>(alg)]; }

}  // namespace

AlgFamily alg_family(Alg alg) { return info(alg).family; }
std::string_view alg_name(Alg alg) { return info(alg).name; }
const char* alg_digest(Alg alg) { return info(alg).digest; }
size_t alg_hash_size(Alg alg) { return info(alg).hash_size; }

size_t alg_ecdsa_coordinate_size(Alg alg) {
  switch (alg) {
    case Alg::kES256: return 32;
    case Alg::kES384: return 48;
    case Alg::kES512: return 66;  // P-521: 521 bits round up to 66 bytes
    default: return 0;
  }
}

std::string_view alg_curve(Alg alg) {
  switch (alg) {
    case Alg::kES256: return "P-256";
    case Alg::kES384: return "P-384";
    case Alg::kES512: return "P-521";
    default: return "";
  }
}

const char* alg_openssl_group(Alg alg) {
  switch (alg) {
    case Alg::kES256: return "prime256v1";
    case Alg::kES384: return "secp384r1";
    case Alg::kES512: return "secp521r1";
    default: return "";
  }
}

std::optional<Alg> parse_alg(std::string_view name) {
  for (size_t i = 0; i < sizeof kInfo / sizeof kInfo[0]; ++i)
    if (kInfo[i].name == name) return static_cast<Alg>(i);
  if (name == "Ed25519") return Alg::kEdDSA;
  return std::nullopt;
}

std::string_view alg_names_for_messages() {
  return "HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, "
         "EdDSA";
}

}  // namespace ringway::filters::jwt
