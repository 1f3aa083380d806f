#include "filters/cache/entry.h"

#include "engine/http/head_writer.h"
#include "engine/http/http_date.h"
#include "filters/cache/text.h"

namespace ringway::filters::cache {
namespace {

// Per-entry bookkeeping charged on top of the bytes it holds: the entry
// object, its list node and map slot (a rough, fixed estimate).
constexpr uint64_t kEntryOverhead = 256;

bool dropped(std::string_view name, const http::ConnectionTokens& conn, std::string_view status_header) {
  return http::is_hop_by_hop(name) || conn.names(name) || http::iequals(name, "age") ||
         (!status_header.empty() && http::iequals(name, status_header));
}

// Fields a 304 does not update (4.3.4): those describing the stored body,
// and Vary, by which the stored response was selected. A 304 describes the
// origin's representation; what we store may be a transform of it (a gzip
// copy made by the compress filter, with its own encoding and Vary).
bool kept_on_update(std::string_view name) {
  return http::iequals(name, "content-encoding") || http::iequals(name, "content-range") ||
         http::iequals(name, "content-type") || http::iequals(name, "vary");
}

bool weak_tag(std::string_view etag) { return etag.starts_with("W/"); }

}  // namespace

http::HeaderList Entry::header_views() const {
  http::HeaderList list;
  for (const auto& h : headers) list.push_back({h.name, h.value});
  return list;
}

std::vector<StoredHeader> storable_headers(const http::HeaderList& headers,
                                           std::string_view status_header, int64_t response_time) {
  http::ConnectionTokens conn;
  conn.parse(headers);
  std::vector<StoredHeader> out;
  bool has_date = false;
  for (const auto& h : headers) {
    if (dropped(h.name, conn, status_header)) continue;
    if (http::iequals(h.name, "date")) has_date = true;
    out.push_back({std::string(h.name), std::string(h.value)});
  }
  if (!has_date) out.push_back({"Date", http::format_http_date(response_time)});
  return out;
}

std::vector<StoredHeader> updated_headers(const std::vector<StoredHeader>& stored,
                                          const http::HeaderList& not_modified,
                                          std::string_view status_header, int64_t response_time) {
  http::ConnectionTokens conn;
  conn.parse(not_modified);
  auto replaces = [&](std::string_view name) {
    for (const auto& h : not_modified)
      if (http::iequals(h.name, name) && !dropped(h.name, conn, status_header) && !kept_on_update(h.name))
        return true;
    return false;
  };
  // A stored weak validator stays weak: it was weakened because the body we
  // hold is not byte for byte the origin's (RFC 9110 8.8.1).
  bool stored_weak = false;
  std::vector<StoredHeader> out;
  for (const auto& h : stored) {
    if (http::iequals(h.name, "etag")) stored_weak = weak_tag(h.value);
    if (!replaces(h.name)) out.push_back(h);
  }
  bool has_date = false;
  for (const auto& h : not_modified) {
    if (dropped(h.name, conn, status_header) || kept_on_update(h.name)) continue;
    if (http::iequals(h.name, "date")) has_date = true;
    if (http::iequals(h.name, "etag") && stored_weak && !weak_tag(h.value))
      out.push_back({std::string(h.name), "W/" + std::string(h.value)});
    else
      out.push_back({std::string(h.name), std::string(h.value)});
  }
  // The stored Date described the old response; a 304 without one is dated now.
  if (!has_date) {
    for (auto it = out.begin(); it != out.end();)
      it = http::iequals(it->name, "date") ? out.erase(it) : it + 1;
    out.push_back({"Date", http::format_http_date(response_time)});
  }
  return out;
}

std::shared_ptr<Entry> make_entry(std::string key, std::vector<std::string> vary, std::string secondary,
                                  int status, std::vector<StoredHeader> headers,
                                  std::shared_ptr<const std::string> body, const http::HeaderList& age_source,
                                  const EntryTimes& times, const HeuristicPolicy& heuristic) {
  auto e = std::make_shared<Entry>();
  e->key = std::move(key);
  e->vary = std::move(vary);
  e->secondary = std::move(secondary);
  e->status = status;
  e->headers = std::move(headers);
  e->body = body ? std::move(body) : std::make_shared<const std::string>();

  http::HeaderList views = e->header_views();
  ResponseFacts facts = read_response_facts(views, times.now);
  facts.age = read_response_facts(age_source, times.now).age;
  const CacheControl& cc = facts.cc;
  e->response_time = times.response_time;
  e->corrected_initial_age = corrected_initial_age(facts, times.request_time, times.response_time);
  e->lifetime = freshness_lifetime(facts, status, times.response_time, heuristic);
  e->always_revalidate = cc.no_cache;
  e->no_stale = cc.no_cache || cc.must_revalidate || cc.proxy_revalidate || cc.s_maxage != CacheControl::kAbsent;
  e->stale_while_revalidate = cc.stale_while_revalidate > 0 ? cc.stale_while_revalidate : 0;
  e->stale_if_error = cc.stale_if_error > 0 ? cc.stale_if_error : 0;
  if (const http::Header* etag = find_header(views, "etag")) e->etag.assign(etag->value);
  e->last_modified = facts.last_modified;
  e->date = facts.date;

  uint64_t size = kEntryOverhead + e->key.size() + e->secondary.size() + e->body->size();
  for (const auto& v : e->vary) size += v.size();
  for (const auto& h : e->headers) size += h.name.size() + h.value.size();
  e->size = size;
  return e;
}

}  // namespace ringway::filters::cache
