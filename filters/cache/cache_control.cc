#include "filters/cache/cache_control.h"

#include <algorithm>
#include <string>

#include "filters/cache/text.h"

namespace ringway::filters::cache {
namespace {

// The argument of a directive: a token, or a quoted-string with its
// quoted-pairs undone. `has` is false when there was no '='.
struct Argument {
  bool has = false;
  std::string value;
};

// Splits "name[=arg]" and unquotes the argument.
void split_directive(std::string_view element, std::string_view& name, Argument& arg) {
  size_t eq = element.find('=');
  name = trim_ows(element.substr(0, eq));
  arg = {};
  if (eq == std::string_view::npos) return;
  arg.has = true;
  std::string_view raw = trim_ows(element.substr(eq + 1));
  if (raw.size() >= 2 && raw.front() == '"' && raw.back() == '"') {
    raw = raw.substr(1, raw.size() - 2);
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\\' && i + 1 < raw.size()) ++i;
      arg.value.push_back(raw[i]);
    }
  } else {
    arg.value.assign(raw);
  }
}

// Sets a delta-seconds directive. A first occurrence records the value; a
// later one with a different value, or an unparseable one, marks the
// freshness information invalid (only where it matters for freshness).
void set_delta(int64_t& slot, const Argument& arg, bool freshness, CacheControl& cc) {
  int64_t value = 0;
  if (!arg.has || !parse_delta_seconds(arg.value, value)) {
    if (freshness) {
      cc.invalid_freshness = true;
      slot = 0;
    }
    return;
  }
  if (slot != CacheControl::kAbsent && slot != value) {
    // Freshness: the more restrictive value, and stale anyway. Others: the
    // first occurrence (4.2.1 allows either).
    if (freshness) {
      cc.invalid_freshness = true;
      slot = std::min(slot, value);
    }
    return;
  }
  slot = value;
}

}  // namespace

bool CacheControl::empty() const {
  return max_age == kAbsent && s_maxage == kAbsent && min_fresh == kAbsent && max_stale == kAbsent &&
         stale_while_revalidate == kAbsent && stale_if_error == kAbsent && !max_stale_any &&
         !no_store && !no_cache && !private_ && !public_ && !must_revalidate && !proxy_revalidate &&
         !must_understand && !no_transform && !only_if_cached && !immutable && !invalid_freshness;
}

void parse_cache_control(std::string_view value, CacheControl& cc) {
  std::string_view rest = value, element, name;
  Argument arg;
  while (next_list_element(rest, element)) {
    split_directive(element, name, arg);
    if (name.empty()) continue;
    using http::iequals;
    if (iequals(name, "max-age")) {
      set_delta(cc.max_age, arg, true, cc);
    } else if (iequals(name, "s-maxage")) {
      set_delta(cc.s_maxage, arg, true, cc);
    } else if (iequals(name, "no-cache")) {
      cc.no_cache = true;
    } else if (iequals(name, "no-store")) {
      cc.no_store = true;
    } else if (iequals(name, "private")) {
      cc.private_ = true;
    } else if (iequals(name, "public")) {
      cc.public_ = true;
    } else if (iequals(name, "must-revalidate")) {
      cc.must_revalidate = true;
    } else if (iequals(name, "proxy-revalidate")) {
      cc.proxy_revalidate = true;
    } else if (iequals(name, "must-understand")) {
      cc.must_understand = true;
    } else if (iequals(name, "no-transform")) {
      cc.no_transform = true;
    } else if (iequals(name, "only-if-cached")) {
      cc.only_if_cached = true;
    } else if (iequals(name, "immutable")) {
      cc.immutable = true;
    } else if (iequals(name, "max-stale")) {
      // Without a value: any staleness (5.2.1.2). A bad value is ignored,
      // which errs on the side of not serving stale.
      if (!arg.has) cc.max_stale_any = true;
      else set_delta(cc.max_stale, arg, false, cc);
    } else if (iequals(name, "min-fresh")) {
      set_delta(cc.min_fresh, arg, false, cc);
    } else if (iequals(name, "stale-while-revalidate")) {
      set_delta(cc.stale_while_revalidate, arg, false, cc);
    } else if (iequals(name, "stale-if-error")) {
      set_delta(cc.stale_if_error, arg, false, cc);
    }
  }
}

CacheControl parse_cache_control(const http::HeaderList& headers) {
  CacheControl cc;
  for (const auto& h : headers)
    if (http::iequals(h.name, "cache-control")) parse_cache_control(h.value, cc);
  return cc;
}

}  // namespace ringway::filters::cache
