#include "filters/ip_rules/ip_rules_filter.h"

#include "config/text_util.h"
#include "filters/ip_rules/address_set.h"

namespace ringway::filters {
namespace {

using config::detail::Field;
using config::detail::MapReader;
using ip_rules::AddressSet;
using ip_rules::Cidr;
using ip_rules::Ip;

std::vector<Cidr> parse_blocks(const Field& field) {
  std::vector<Cidr> blocks;
  for (const Field& item :
       config::detail::list_elements(field, true, "an address or CIDR block, or a list of them")) {
    if (!item.value.IsScalar()) item.fail_type("an address or CIDR block such as 10.0.0.0/8");
    Cidr cidr;
    std::string error;
    if (!ip_rules::parse_cidr(config::detail::get_nonempty_string(item), cidr, error)) item.fail(error);
    blocks.push_back(cidr);
  }
  return blocks;
}

class IpRulesFilter final : public filter::Filter {
 public:
  IpRulesFilter(AddressSet allow, bool has_allow, AddressSet deny, AddressSet trusted,
                std::string real_ip_header)
      : allow_(std::move(allow)),
        has_allow_(has_allow),
        deny_(std::move(deny)),
        trusted_(std::move(trusted)),
        real_ip_header_(std::move(real_ip_header)) {}

  uint8_t phases() const override { return filter::kRequestHead; }

  filter::Outcome on_request_head(filter::Context& ctx) const override {
    Ip peer;
    // The engine always gives a numeric peer address; anything else is
    // refused rather than guessed at.
    if (!ip_rules::parse_ip(ctx.client_ip, peer)) return forbid(ctx);
    Ip client = trusted_.empty() ? peer
                                 : ip_rules::resolve_client(peer, *ctx.request, real_ip_header_, trusted_);
    ctx.set_attribute("client_ip", ip_rules::format_ip(client));
    if (deny_.contains(client)) return forbid(ctx);
    if (has_allow_ && !allow_.contains(client)) return forbid(ctx);
    return filter::Outcome::kProceed;
  }

 private:
  static filter::Outcome forbid(filter::Context& ctx) {
    filter::LocalResponse& local = ctx.local();
    local.status = 403;
    local.headers.push_back({"Content-Type", "text/plain"});
    local.body = "forbidden\n";
    return filter::Outcome::kRespond;
  }

  AddressSet allow_;
  bool has_allow_;
  AddressSet deny_;
  AddressSet trusted_;
  std::string real_ip_header_;
};

}  // namespace

std::shared_ptr<const filter::Filter> compile_ip_rules(const FilterBuild& build) {
  MapReader map(build.field, "in filter " + config::detail::quote(build.spec.name),
                {"type", "allow", "deny", "trusted_proxies", "real_ip_header"});
  const Field* allow_field = map.find("allow");
  const Field* deny_field = map.find("deny");
  if (allow_field == nullptr && deny_field == nullptr)
    build.field.fail("nothing to check: give allow, deny or both");
  AddressSet deny = deny_field ? AddressSet(parse_blocks(*deny_field)) : AddressSet();
  AddressSet allow;
  if (allow_field != nullptr) {
    auto items = config::detail::list_elements(*allow_field, true, "");
    std::vector<Cidr> blocks = parse_blocks(*allow_field);
    // Deny is checked first, so an allow block inside deny allows nothing:
    // most likely an nginx-style "allow ...; deny all" written here.
    for (size_t i = 0; i < blocks.size(); ++i)
      if (deny.covers(blocks[i]))
        items[i].fail(config::detail::quote(items[i].value.Scalar()) +
                      " lies entirely inside deny, which is checked first, so it allows nothing "
                      "(addresses outside allow are refused anyway: no need for \"deny: all\")");
    allow = AddressSet(blocks);
  }
  AddressSet trusted;
  if (const Field* f = map.find("trusted_proxies")) trusted = AddressSet(parse_blocks(*f));
  std::string header = "X-Forwarded-For";
  if (const Field* f = map.find("real_ip_header")) {
    header = config::detail::get_nonempty_string(*f);
    if (!config::detail::is_http_token(header)) f->fail("invalid header name " + config::detail::quote(header));
    if (trusted.empty()) f->fail("has no effect without trusted_proxies");
  }
  return std::make_shared<IpRulesFilter>(std::move(allow), allow_field != nullptr, std::move(deny),
                                         std::move(trusted), std::move(header));
}

}  // namespace ringway::filters
