#include "filters/body_limit/body_limit_filter.h"

#include <charconv>

#include "config/text_util.h"

namespace ringway::filters {
namespace {

struct BodyCount : filter::RequestState {
  uint64_t bytes = 0;
};

class BodyLimitFilter final : public filter::Filter {
 public:
  explicit BodyLimitFilter(uint64_t max) : max_(max) {}

  uint8_t phases() const override { return filter::kRequestHead | filter::kRequestBody; }

  filter::Outcome on_request_head(filter::Context& ctx) const override {
    // The engine has already refused malformed and duplicate lengths.
    if (const http::Header* cl = ctx.request->find("content-length")) {
      uint64_t n = 0;
      auto [end, ec] = std::from_chars(cl->value.data(), cl->value.data() + cl->value.size(), n);
      if (ec != std::errc() || n > max_) return refuse(ctx);
    }
    return filter::Outcome::kProceed;
  }

  filter::Outcome on_request_body(filter::Context& ctx, std::string_view piece,
                                  bool last) const override {
    BodyCount& count = ctx.state<BodyCount>();
    count.bytes += piece.size();
    return count.bytes > max_ ? refuse(ctx) : filter::Outcome::kProceed;
  }

 private:
  static filter::Outcome refuse(filter::Context& ctx) {
    ctx.local().status = 413;
    ctx.local().body = "request body too large for this route\n";
    ctx.local().headers.push_back({"Content-Type", "text/plain"});
    return filter::Outcome::kRespond;
  }

  uint64_t max_;
};

}  // namespace

std::shared_ptr<const filter::Filter> compile_body_limit(const FilterBuild& build) {
  using namespace config::detail;
  MapReader map(build.field, "in filter " + quote(build.spec.name), {"type", "max_bytes"});
  uint64_t max = get_size(map.require("max_bytes"), 0, uint64_t{1} << 50);
  return std::make_shared<BodyLimitFilter>(max);
}

}  // namespace ringway::filters
