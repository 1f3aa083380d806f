#include "filters/api_key/api_key_filter.h"

#include <openssl/evp.h>

#include <array>
#include <cstring>
#include <unordered_map>

#include "config/text_util.h"
#include "filters/query_param.h"
#include "filters/header_rules.h"

namespace ringway::filters {
namespace {

using config::detail::Field;
using config::detail::hex_value;
using config::detail::MapReader;

using Digest = std::array<unsigned char, 32>;

// A SHA-256 digest is already uniformly distributed: its first 8 bytes are a
// good hash.
struct DigestHash {
  size_t operator()(const Digest& d) const {
    uint64_t h;
    std::memcpy(&h, d.data(), sizeof h);
    return static_cast<size_t>(h);
  }
};

using KeyTable = std::unordered_map<Digest, std::string, DigestHash>;

// Where each hash was first given, for "duplicate" messages: "FILE:LINE".
using Origins = std::unordered_map<Digest, std::string, DigestHash>;

// The value is never quoted in messages: a raw key pasted where its hash
// belongs would otherwise end up in logs.
Digest parse_hash(const Field& field) {
  if (!field.value.IsScalar()) field.fail_type("a SHA-256 hash (64 hex digits)");
  const std::string& text = field.value.Scalar();
  const char* how = " (make one with: printf %s KEY | sha256sum)";
  if (text.size() != 64)
    field.fail("must be the SHA-256 of the key as 64 hex digits, got " + std::to_string(text.size()) +
               " characters" + how);
  Digest d;
  for (size_t i = 0; i < 32; ++i) {
    int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0)
      field.fail("must be the SHA-256 of the key as 64 hex digits, found a non-hex character at "
                 "position " + std::to_string(hi < 0 ? 2 * i + 1 : 2 * i + 2) + how);
    d[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return d;
}

std::string parse_consumer(const Field& field) {
  if (field.value.IsNull()) field.fail("missing consumer name");
  std::string name = config::detail::get_nonempty_string(field);
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) field.fail("consumer name must not contain control characters");
  return name;
}

void add_key(KeyTable& table, Origins& origins, const std::string& file, const Field& hash_field,
             const Field& consumer_field) {
  Digest d = parse_hash(hash_field);
  std::string consumer = parse_consumer(consumer_field);
  YAML::Mark mark = hash_field.mark();
  std::string here = file + ":" + std::to_string(config::detail::line_of(mark));
  auto [it, inserted] = origins.emplace(d, here);
  if (!inserted) hash_field.fail("duplicate key hash (first at " + it->second + ")");
  table.emplace(d, std::move(consumer));
}

// `keys:` (or a keys file): a map of hash -> consumer, or a list of
// {sha256, consumer} maps.
void parse_keys(const Field& field, const std::string& file, KeyTable& table, Origins& origins) {
  if (field.value.IsMap()) {
    // Iterated here rather than with map_entries(), whose duplicate message
    // quotes the key text.
    for (const auto& entry : field.value) {
      Field hash{YAML::Node(), entry.first, field.path};
      Field consumer{entry.first, entry.second, field.path};
      add_key(table, origins, file, hash, consumer);
    }
    return;
  }
  if (!field.value.IsSequence())
    field.fail_type("a map of SHA-256 hash to consumer name, or a list of {sha256, consumer}");
  size_t i = 0;
  for (const auto& node : field.value) {
    Field element = field.element(i++, node);
    MapReader entry(element, "in " + element.path, {"sha256", "consumer"});
    add_key(table, origins, file, entry.require("sha256"), entry.require("consumer"));
  }
}

void parse_keys_file(const Field& field, const std::string& path, KeyTable& table, Origins& origins) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    field.fail("cannot read " + config::detail::quote(path));
  } catch (const YAML::Exception& e) {
    field.fail(config::detail::format_error(path, e.mark, e.msg));
  }
  if (root.IsNull()) return;  // an empty file: no keys (yet)
  try {
    parse_keys(Field{YAML::Node(), root, "keys"}, path, table, origins);
  } catch (const config::detail::ConfigError& e) {
    field.fail(config::detail::format_error(path, e.mark, e.message));
  }
}

bool is_quotable(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') return false;
  return true;
}

struct Hasher final : filter::WorkerState {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ~Hasher() override { EVP_MD_CTX_free(md); }
};

struct MdDeleter {
  void operator()(EVP_MD* md) const { EVP_MD_free(md); }
};

struct Settings {
  std::string header;  // "" when keys are not read from a header
  std::string query;   // "" when keys are not read from the query
  std::string consumer_header;
  bool hide_credentials = true;
  std::string www_authenticate;
};

class ApiKeyFilter final : public filter::Filter {
 public:
  ApiKeyFilter(Settings settings, KeyTable keys, std::unique_ptr<EVP_MD, MdDeleter> sha256)
      : s_(std::move(settings)), keys_(std::move(keys)), sha256_(std::move(sha256)) {}

  uint8_t phases() const override { return filter::kRequestHead; }

  std::unique_ptr<filter::WorkerState> make_worker_state(uint32_t) const override {
    return std::make_unique<Hasher>();
  }

  filter::Outcome on_request_head(filter::Context& ctx) const override {
    http::RequestHead& head = *ctx.request;
    // The first source that carries a key decides; a key given twice in that
    // source is refused (which one would the upstream read?), also under a
    // '_' spelling of the header, which CGI-style upstreams read as the same.
    std::string_view key;
    std::string decoded;
    bool found = false;
    if (!s_.header.empty()) {
      size_t count = 0;
      for (const auto& h : head.headers) {
        if (!http::same_cgi_name(h.name, s_.header)) continue;
        if (count++ == 0) key = h.value;
      }
      if (count > 1) return refuse(ctx, "invalid API key\n");
      found = !key.empty();
    }
    if (!found && !s_.query.empty()) {
      ParamLookup p = find_param(head.query, s_.query);
      if (p.count > 1) return refuse(ctx, "invalid API key\n");
      if (p.count == 1 && !p.raw.empty()) {
        if (!percent_decode(p.raw, decoded)) return refuse(ctx, "invalid API key\n");
        key = decoded;
        found = !key.empty();
      }
    }
    if (!found) return refuse(ctx, "missing API key\n");

    // Only the hash is compared, in a hash table: the time a lookup takes
    // depends on the SHA-256 of what was presented, which tells an attacker
    // nothing about the stored keys.
    Digest digest;
    unsigned int length = 0;
    EVP_MD_CTX* md = ctx.worker<Hasher>().md;
    if (md == nullptr || EVP_DigestInit_ex2(md, sha256_.get(), nullptr) != 1 ||
        EVP_DigestUpdate(md, key.data(), key.size()) != 1 ||
        EVP_DigestFinal_ex(md, digest.data(), &length) != 1 || length != digest.size()) {
      ctx.local().status = 500;
      ctx.local().headers.push_back({"Content-Type", "text/plain"});
      ctx.local().body = "internal error\n";
      return filter::Outcome::kRespond;
    }
    auto it = keys_.find(digest);
    if (it == keys_.end()) return refuse(ctx, "invalid API key\n");

    ctx.set_attribute("consumer", it->second);
    ctx.authenticated = true;
    if (s_.hide_credentials) {
      if (!s_.header.empty()) ctx.remove_request_header(s_.header);
      if (!s_.query.empty() && find_param(head.query, s_.query).count > 0) {
        std::string query = remove_param(head.query, s_.query);
        // The target as received goes too, so that nothing that prints it
        // later (a log line) shows the key.
        size_t mark = head.target.find('?');
        if (mark != std::string_view::npos) {
          std::string target(head.target.substr(0, mark));
          if (!query.empty()) target.append("?").append(query);
          head.target = ctx.keep(target);
        }
        head.query = ctx.keep(query);
      }
    }
    // Replaces any copy the client sent.
    if (!s_.consumer_header.empty()) ctx.set_request_header(s_.consumer_header, it->second);
    return filter::Outcome::kProceed;
  }

 private:
  filter::Outcome refuse(filter::Context& ctx, std::string_view body) const {
    filter::LocalResponse& local = ctx.local();
    local.status = 401;
    local.headers.push_back({"Content-Type", "text/plain"});
    local.headers.push_back({"WWW-Authenticate", s_.www_authenticate});
    local.body = body;
    return filter::Outcome::kRespond;
  }

  Settings s_;
  KeyTable keys_;
  std::unique_ptr<EVP_MD, MdDeleter> sha256_;
};


std::string header_name(const Field& field) {
  std::string name = config::detail::get_nonempty_string(field);
  if (!config::detail::is_http_token(name)) field.fail("invalid header name " + config::detail::quote(name));
  if (is_gateway_managed_header(name)) field.fail(config::detail::quote(name) + " is managed by the gateway");
  return name;
}

}  // namespace

std::shared_ptr<const filter::Filter> compile_api_key(const FilterBuild& build) {
  MapReader map(build.field, "in filter " + config::detail::quote(build.spec.name),
                {"type", "header", "query", "keys", "keys_file", "consumer_header", "hide_credentials",
                 "realm"});
  Settings s;
  const Field* header = map.find("header");
  const Field* query = map.find("query");
  if (header != nullptr) s.header = header_name(*header);
  if (query != nullptr) {
    s.query = config::detail::get_nonempty_string(*query);
    if (s.query.find_first_of("&=#") != std::string::npos)
      query->fail("a query parameter name must not contain '&', '=' or '#'");
  }
  if (header == nullptr && query == nullptr) s.header = "X-API-Key";

  if (const Field* f = map.find("consumer_header")) {
    s.consumer_header = header_name(*f);
    if (is_written_by_gateway(s.consumer_header))
      f->fail(config::detail::quote(s.consumer_header) + " is written by the gateway after the filters");
    if (http::iequals(s.consumer_header, s.header))
      f->fail("must differ from the header that carries the key");
  }
  if (const Field* f = map.find("hide_credentials")) s.hide_credentials = config::detail::get_bool(*f);
  std::string realm = "ringway";
  if (const Field* f = map.find("realm")) {
    realm = config::detail::get_nonempty_string(*f);
    if (!is_quotable(realm)) f->fail("must not contain '\"', '\\' or control characters");
  }
  s.www_authenticate = "ApiKey realm=\"" + realm + "\"";

  KeyTable keys;
  Origins origins;
  if (const Field* f = map.find("keys")) parse_keys(*f, build.config.source_file, keys, origins);
  if (const Field* f = map.find("keys_file"))
    parse_keys_file(*f, build.resolve_path(config::detail::get_nonempty_string(*f)), keys, origins);
  if (keys.empty()) build.field.fail("no keys: give keys, keys_file or both");

  std::unique_ptr<EVP_MD, MdDeleter> sha256(EVP_MD_fetch(nullptr, "SHA2-256", nullptr));
  if (!sha256) build.field.fail("SHA-256 is not available from OpenSSL");
  return std::make_shared<ApiKeyFilter>(std::move(s), std::move(keys), std::move(sha256));
}

}  // namespace ringway::filters
