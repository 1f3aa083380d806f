#include "filters/cache/purge_filter.h"

#include <algorithm>

#include "config/text_util.h"
#include "filters/cache/cache_filter.h"

namespace ringway::filters {
namespace {

class CachePurgeFilter final : public filter::Filter {
 public:
  explicit CachePurgeFilter(std::shared_ptr<const filter::Filter> cache) : cache_(std::move(cache)) {}

  uint8_t phases() const override { return filter::kRequestHead; }

  filter::Outcome on_request_head(filter::Context& ctx) const override {
    filter::LocalResponse& r = ctx.local();
    r.headers.push_back({"Content-Type", "text/plain"});
    if (ctx.request->method != "PURGE") {
      r.status = 405;
      r.headers.push_back({"Allow", "PURGE"});
      r.body = "only PURGE is allowed here\n";
      return filter::Outcome::kRespond;
    }
    // "" would mean every host to purge_cache: a request purges its own.
    if (ctx.request->host.empty()) {
      r.status = 400;
      r.body = "PURGE needs a Host\n";
      return filter::Outcome::kRespond;
    }
    // The target as received, for the query; the normalised path for the
    // rest, so "/a/../b" purges what a GET of it would have hit.
    std::string target = ctx.request->path;
    bool prefix = !target.empty() && target.back() == '*';
    if (prefix) target.pop_back();
    if (!ctx.request->query.empty() && !prefix) target.append("?").append(ctx.request->query);
    purge_cache(*cache_, ctx.request->host, target, prefix);
    r.status = 200;
    r.body = ctx.keep((prefix ? "purged prefix " : "purged ") + target + "\n");
    return filter::Outcome::kRespond;
  }

 private:
  std::shared_ptr<const filter::Filter> cache_;
};

}  // namespace

std::shared_ptr<const filter::Filter> compile_cache_purge(const FilterBuild& build) {
  using namespace config::detail;
  MapReader map(build.field, "in filter " + quote(build.spec.name), {"type", "cache"});
  const Field& cache = map.require("cache");
  std::string name = get_nonempty_string(cache);
  const auto& specs = build.config.filters;
  auto it = std::find_if(specs.begin(), specs.end(), [&](const auto& s) { return s.name == name; });
  if (it == specs.end() || it->type != "cache")
    cache.fail("no cache filter named " + quote(name));
  size_t index = static_cast<size_t>(it - specs.begin());
  if (build.built == nullptr || index >= build.built->filters.size())
    cache.fail("the cache filter " + quote(name) + " must be defined above this one");
  return std::make_shared<CachePurgeFilter>(build.built->filters[index]);
}

}  // namespace ringway::filters
