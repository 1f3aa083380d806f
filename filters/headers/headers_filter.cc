#include "filters/headers/headers_filter.h"

#include <re2/re2.h>

#include "config/text_util.h"
#include "engine/routing/path.h"
#include "filters/header_rules.h"
#include "filters/headers/value_template.h"

namespace ringway::filters {
namespace {

using config::detail::Field;
using config::detail::MapReader;

// The edits of one direction, applied in this order: remove, set, add.
struct HeaderEdits {
  std::vector<std::string> remove;
  std::vector<HeaderTemplate> set;
  std::vector<HeaderTemplate> add;
  bool empty() const { return remove.empty() && set.empty() && add.empty(); }
};

// Request headers the engine writes after the filters may be removed, not set.
void refuse_written_by_gateway(const Field& field, const std::vector<HeaderTemplate>& templates) {
  for (const HeaderTemplate& t : templates)
    if (is_written_by_gateway(t.name))
      field.fail(config::detail::quote(t.name) + " is written by the gateway after the filters and cannot be set");
}

HeaderEdits parse_direction(const Field& field, bool request) {
  MapReader map(field, "in " + field.path, {"set", "add", "remove"});
  HeaderEdits edits;
  if (const Field* f = map.find("set")) {
    edits.set = read_header_templates(*f);
    if (request) refuse_written_by_gateway(*f, edits.set);
  }
  if (const Field* f = map.find("add")) {
    edits.add = read_header_templates(*f);
    if (request) refuse_written_by_gateway(*f, edits.add);
  }
  if (const Field* f = map.find("remove")) {
    for (const Field& item : config::detail::list_elements(*f, true, "a header name or a list of them"))
      edits.remove.push_back(read_header_name(item));
  }
  return edits;
}

class HeadersFilter final : public filter::Filter {
 public:
  HeadersFilter(HeaderEdits request, HeaderEdits response, std::unique_ptr<re2::RE2> regex,
                std::string replace)
      : request_(std::move(request)),
        response_(std::move(response)),
        regex_(std::move(regex)),
        replace_(std::move(replace)) {}

  uint8_t phases() const override {
    uint8_t p = 0;
    if (!request_.empty() || regex_) p |= filter::kRequestHead;
    if (!response_.empty()) p |= filter::kResponseHead;
    return p;
  }

  filter::Outcome on_request_head(filter::Context& ctx) const override {
    if (regex_) {
      std::string path = ctx.request->path;
      if (re2::RE2::Replace(&path, *regex_, replace_)) {
        // The result is normalised like a client's path, so a rewrite can
        // never produce what normalisation refuses ("..", encoded slashes).
        routing::TargetParts parts;
        if (path.find('?') != std::string::npos || routing::normalize_target(path, parts) != nullptr) {
          ctx.local().status = 500;
          ctx.local().body = "path rewrite produced an invalid path\n";
          return filter::Outcome::kRespond;
        }
        ctx.request->path = std::move(parts.path);
      }
    }
    apply(ctx, request_, /*request=*/true);
    return filter::Outcome::kProceed;
  }

  filter::Outcome on_response_head(filter::Context& ctx) const override {
    apply(ctx, response_, /*request=*/false);
    return filter::Outcome::kProceed;
  }

 private:
  static void apply(filter::Context& ctx, const HeaderEdits& edits, bool request) {
    for (const auto& name : edits.remove) {
      if (request) ctx.remove_request_header(name);
      else ctx.remove_response_header(name);
    }
    // A value that would inject a line break is never sent, nor (as with
    // nginx's proxy_set_header) one that expands to nothing: an empty
    // X-User-Id is not a user id an upstream should see.
    std::string value;
    auto usable = [&](const HeaderTemplate& e) { return e.value.expand(ctx, value) && !value.empty(); };
    for (const auto& e : edits.set) {
      if (!usable(e)) {
        // Nothing is set, but the copies it replaces still go, so a
        // client's own cannot pass for ours.
        if (request) ctx.remove_request_header(e.name);
        else ctx.remove_response_header(e.name);
        continue;
      }
      if (request) ctx.set_request_header(e.name, value);
      else ctx.set_response_header(e.name, value);
    }
    for (const auto& e : edits.add) {
      if (!usable(e)) continue;
      if (request) ctx.request->headers.push_back({ctx.keep(e.name), ctx.keep(value)});
      else ctx.add_response_header(e.name, value);
    }
  }

  HeaderEdits request_;
  HeaderEdits response_;
  std::unique_ptr<re2::RE2> regex_;
  std::string replace_;
};

}  // namespace

std::shared_ptr<const filter::Filter> compile_headers(const FilterBuild& build) {
  MapReader map(build.field, "in filter " + config::detail::quote(build.spec.name),
                {"type", "request", "response", "rewrite"});
  HeaderEdits request, response;
  if (const Field* f = map.find("request")) request = parse_direction(*f, true);
  if (const Field* f = map.find("response")) response = parse_direction(*f, false);
  std::unique_ptr<re2::RE2> regex;
  std::string replace;
  if (const Field* f = map.find("rewrite")) {
    MapReader rewrite(*f, "in " + f->path, {"regex", "replace"});
    const Field& pattern = rewrite.require("regex");
    re2::RE2::Options options;
    options.set_log_errors(false);
    regex = std::make_unique<re2::RE2>(config::detail::get_nonempty_string(pattern), options);
    if (!regex->ok()) pattern.fail("invalid regular expression: " + config::detail::quote(regex->error()));
    const Field& replacement = rewrite.require("replace");
    replace = config::detail::get_string(replacement);
    std::string error;
    if (!regex->CheckRewriteString(replace, &error)) replacement.fail(error);
    if (replace.empty() || replace[0] != '/') replacement.fail("must start with '/'");
  }
  if (request.empty() && response.empty() && !regex)
    build.field.fail("nothing to do: give request, response or rewrite");
  return std::make_shared<HeadersFilter>(std::move(request), std::move(response), std::move(regex),
                                         std::move(replace));
}

}  // namespace ringway::filters
