#include "filters/jwt/jwks.h"

#include <simdjson.h>

#include <algorithm>
#include <optional>

#include "filters/jwt/base64url.h"
#include "filters/jwt/key_material.h"

namespace ringway::filters::jwt {
namespace {

namespace dom = simdjson::dom;

// Quoted for a one-line message: printable ASCII kept, the rest escaped, cut
// at 64 characters.
std::string quote_text(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < 64; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      static const char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (s.size() > 64) out += "...";
  return out + "\"";
}

// The members of one JWK, looked up by name. Duplicate names are refused
// (which of two "n" members counts would be a parser accident).
class Members {
 public:
  // "" or the problem.
  std::string read(dom::object object) {
    for (dom::key_value_pair kv : object) {
      for (const auto& seen : members_)
        if (seen.first == kv.key) return "has member " + quote_text(kv.key) + " twice";
      members_.emplace_back(kv.key, kv.value);
    }
    return "";
  }
  std::optional<dom::element> find(std::string_view name) const {
    for (const auto& m : members_)
      if (m.first == name) return m.second;
    return std::nullopt;
  }
  // A string member: nullopt when absent; *bad set when present but not a string.
  std::optional<std::string_view> string(std::string_view name, std::string* bad) const {
    auto e = find(name);
    if (!e) return std::nullopt;
    std::string_view s;
    if (e->get_string().get(s) != simdjson::SUCCESS) {
      *bad = "member " + quote_text(name) + " is not a string";
      return std::nullopt;
    }
    return s;
  }

 private:
  std::vector<std::pair<std::string_view, dom::element>> members_;
};

// A required base64url member, decoded.
bool decoded(const Members& m, std::string_view name, std::string* out, std::string* error) {
  std::string bad;
  auto s = m.string(name, &bad);
  if (!bad.empty()) {
    *error = bad;
    return false;
  }
  if (!s) {
    *error = "has no " + quote_text(name);
    return false;
  }
  if (s->empty() || !base64url_decode(*s, out)) {
    *error = "member " + quote_text(name) + " is not strict base64url";
    return false;
  }
  return true;
}

enum class Verdict { kUse, kSkip, kError };

// One JWK into `key`.
Verdict read_key(dom::element element, Key* key, std::string* error) {
  dom::object object;
  if (element.get_object().get(object) != simdjson::SUCCESS) {
    *error = "is not a JSON object";
    return Verdict::kError;
  }
  Members m;
  if (std::string e = m.read(object); !e.empty()) {
    *error = e;
    return Verdict::kError;
  }
  std::string bad;
  auto kty = m.string("kty", &bad);
  auto kid = m.string("kid", &bad);
  auto use = m.string("use", &bad);
  auto alg_text = m.string("alg", &bad);
  if (!bad.empty()) {
    *error = bad;
    return Verdict::kError;
  }
  if (!kty) {
    *error = "has no \"kty\"";
    return Verdict::kError;
  }
  if (kid) key->kid = std::string(*kid);

  // Private RSA/EC/OKP parameters: this is a signing key, which has no place
  // in a verifier's configuration.
  if (*kty != "oct")
    for (const char* name : {"d", "p", "q", "dp", "dq", "qi", "oth"})
      if (m.find(name)) {
        *error = "contains private key parameters (\"" + std::string(name) +
                 "\"); give the public key only";
        return Verdict::kError;
      }

  if (use && *use != "sig") return Verdict::kSkip;
  if (auto ops = m.find("key_ops")) {
    dom::array list;
    if (ops->get_array().get(list) != simdjson::SUCCESS) {
      *error = "member \"key_ops\" is not an array";
      return Verdict::kError;
    }
    bool verify = false;
    for (dom::element op : list) {
      std::string_view s;
      if (op.get_string().get(s) == simdjson::SUCCESS && s == "verify") verify = true;
    }
    if (!verify) return Verdict::kSkip;
  }

  std::optional<Alg> alg;
  if (alg_text) {
    if (*alg_text == "none" || alg_text->empty()) {
      *error = "has alg " + quote_text(*alg_text);
      return Verdict::kError;
    }
    alg = parse_alg(*alg_text);
    if (!alg) return Verdict::kSkip;  // an encryption or unsupported algorithm
  }

  PkeyPtr pkey;
  if (*kty == "RSA") {
    std::string n, e;
    if (!decoded(m, "n", &n, error) || !decoded(m, "e", &e, error)) return Verdict::kError;
    pkey = rsa_public_key(n, e, error);
  } else if (*kty == "EC") {
    auto crv = m.string("crv", &bad);
    if (!bad.empty() || !crv) {
      *error = bad.empty() ? "has no \"crv\"" : bad;
      return Verdict::kError;
    }
    if (*crv != "P-256" && *crv != "P-384" && *crv != "P-521") return Verdict::kSkip;
    std::string x, y;
    if (!decoded(m, "x", &x, error) || !decoded(m, "y", &y, error)) return Verdict::kError;
    pkey = ec_public_key(*crv, x, y, error);
  } else if (*kty == "OKP") {
    auto crv = m.string("crv", &bad);
    if (!bad.empty() || !crv) {
      *error = bad.empty() ? "has no \"crv\"" : bad;
      return Verdict::kError;
    }
    if (*crv != "Ed25519") return Verdict::kSkip;  // Ed448, X25519 (key agreement), ...
    std::string x;
    if (!decoded(m, "x", &x, error)) return Verdict::kError;
    pkey = ed25519_public_key(x, error);
  } else if (*kty == "oct") {
    if (!alg) {
      *error = "is an oct (HMAC) key without \"alg\"; add \"alg\": \"HS256\" (or HS384, HS512)";
      return Verdict::kError;
    }
    std::string k;
    if (!decoded(m, "k", &k, error)) return Verdict::kError;
    *error = make_hmac_key(k, *alg, key);
    OPENSSL_cleanse(k.data(), k.size());
    if (!error->empty()) {
      *error = "secret " + *error;
      return Verdict::kError;
    }
    return Verdict::kUse;
  } else {
    return Verdict::kSkip;
  }
  if (!pkey) return Verdict::kError;
  if (!alg) alg = implied_alg(pkey.get(), /*rsa_default=*/true);
  if (!alg) {
    *error = "is " + describe_key(pkey.get()) + " without \"alg\"";
    return Verdict::kError;
  }
  *error = make_public_key(std::move(pkey), *alg, key);
  return error->empty() ? Verdict::kUse : Verdict::kError;
}

}  // namespace

JwksResult parse_jwks(std::string_view json, std::string_view origin) {
  JwksResult result;
  dom::parser parser;
  dom::element root;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) {
    result.error = "is not valid JSON";
    return result;
  }
  std::vector<dom::element> elements;
  dom::object top;
  if (root.get_object().get(top) != simdjson::SUCCESS) {
    result.error = "is not a JSON object (a JWK set {\"keys\": [...]} or one JWK)";
    return result;
  }
  dom::element keys;
  if (top["keys"].get(keys) == simdjson::SUCCESS) {
    dom::array list;
    if (keys.get_array().get(list) != simdjson::SUCCESS) {
      result.error = "has \"keys\" that is not an array";
      return result;
    }
    for (dom::element e : list) elements.push_back(e);
  } else if (top["kty"].error() == simdjson::SUCCESS) {
    elements.push_back(root);
  } else {
    result.error = "has no \"keys\" array";
    return result;
  }

  for (size_t i = 0; i < elements.size(); ++i) {
    Key key;
    std::string error;
    const Verdict v = read_key(elements[i], &key, &error);
    const std::string where = "key " + std::to_string(i + 1) +
                              (key.kid.empty() ? std::string() : " (kid " + quote_text(key.kid) + ")");
    if (v == Verdict::kError) {
      result.error = where + " " + error;
      result.keys.clear();
      return result;
    }
    if (v == Verdict::kSkip) {
      ++result.skipped;
      continue;
    }
    key.origin = std::string(origin) + " " + where;
    result.keys.push_back(std::move(key));
  }
  if (result.keys.empty())
    result.error = "has no usable signature verification key (" + std::to_string(result.skipped) +
                   " skipped: encryption keys, or unsupported types, curves or algorithms)";
  return result;
}

}  // namespace ringway::filters::jwt
