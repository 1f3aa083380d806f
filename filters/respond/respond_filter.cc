#include "filters/respond/respond_filter.h"

#include <algorithm>
#include <optional>

#include "config/text_util.h"
#include "filters/headers/value_template.h"

namespace ringway::filters {
namespace {

using config::detail::Field;
using config::detail::MapReader;

class RespondFilter final : public filter::Filter {
 public:
  RespondFilter(int status, std::string body, std::vector<HeaderTemplate> headers,
                std::optional<ValueTemplate> location, bool keep_query)
      : status_(status),
        body_(std::move(body)),
        headers_(std::move(headers)),
        location_(std::move(location)),
        keep_query_(keep_query) {}

  uint8_t phases() const override { return filter::kRequestHead; }

  filter::Outcome on_request_head(filter::Context& ctx) const override {
    filter::LocalResponse& r = ctx.local();
    r.status = status_;
    r.body = body_;  // lives in the filter, which outlives the request
    std::string value;
    for (const auto& h : headers_)
      if (h.value.expand(ctx, value)) r.headers.push_back({h.name, ctx.keep(value)});
    if (location_) {
      if (!location_->expand(ctx, value)) {
        r.status = 500;
        r.body = "redirect target would contain a line break\n";
        return filter::Outcome::kRespond;
      }
      if (keep_query_ && !ctx.request->query.empty()) {
        // Before a "#fragment", which never reaches a server.
        const size_t hash = std::min(value.find('#'), value.size());
        const bool has_query = value.find('?') < hash;
        value.insert(hash, std::string(has_query ? "&" : "?").append(ctx.request->query));
      }
      r.headers.push_back({"Location", ctx.keep(value)});
    }
    return filter::Outcome::kRespond;
  }

 private:
  int status_;
  std::string body_;
  std::vector<HeaderTemplate> headers_;
  std::optional<ValueTemplate> location_;
  bool keep_query_;
};

}  // namespace

std::shared_ptr<const filter::Filter> compile_respond(const FilterBuild& build) {
  MapReader map(build.field, "in filter " + config::detail::quote(build.spec.name),
                {"type", "status", "body", "content_type", "headers"});
  int status = 200;
  if (const Field* f = map.find("status"))
    status = static_cast<int>(config::detail::get_int(*f, 200, 599));
  std::string body;
  if (const Field* f = map.find("body")) {
    body = config::detail::get_string(*f);
    // RFC 9110 15.3.5, 15.3.6, 15.4.5: these statuses have no content.
    if (!body.empty() && (status == 204 || status == 205 || status == 304))
      f->fail("a " + std::to_string(status) + " response has no body");
  }
  std::vector<HeaderTemplate> headers;
  if (const Field* f = map.find("headers")) headers = read_header_templates(*f);
  ValueTemplate content_type;
  std::string error;
  ValueTemplate::parse("text/plain", content_type, error);
  const bool typed = std::any_of(headers.begin(), headers.end(), [](const HeaderTemplate& h) {
    return http::iequals(h.name, "content-type");
  });
  if (const Field* f = map.find("content_type")) {
    if (typed) f->fail("Content-Type is also in headers: give it once");
    content_type = read_template(*f);
  }
  // A Content-Type in `headers` is the one sent; else content_type's.
  if (!body.empty() && !typed) headers.push_back({"Content-Type", std::move(content_type)});
  return std::make_shared<RespondFilter>(status, std::move(body), std::move(headers), std::nullopt,
                                         false);
}

std::shared_ptr<const filter::Filter> compile_redirect(const FilterBuild& build) {
  MapReader map(build.field, "in filter " + config::detail::quote(build.spec.name),
                {"type", "status", "location", "keep_query"});
  int status = 301;
  if (const Field* f = map.find("status")) {
    status = static_cast<int>(config::detail::get_int(*f, 300, 399));
    if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308)
      f->fail("a redirect status is one of 301, 302, 303, 307, 308");
  }
  const Field& location = map.require("location");
  ValueTemplate target = read_template(location);
  if (target.text().empty()) location.fail("must not be empty");
  bool keep_query = false;
  if (const Field* f = map.find("keep_query")) keep_query = config::detail::get_bool(*f);
  return std::make_shared<RespondFilter>(status, std::string(), std::vector<HeaderTemplate>{},
                                         std::move(target), keep_query);
}

}  // namespace ringway::filters
