#include "filters/compress/accept_encoding.h"

#include <algorithm>

#include "config/text_util.h"
#include "engine/http/field_value.h"

namespace ringway::filters::compress {
namespace {

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths.
std::optional<int> parse_qvalue(std::string_view s) {
  if (s.empty() || (s[0] != '0' && s[0] != '1')) return std::nullopt;
  int whole = s[0] - '0';
  if (s.size() == 1) return whole * 1000;
  if (s[1] != '.' || s.size() > 5) return std::nullopt;
  int frac = 0, scale = 100;
  for (char c : s.substr(2)) {
    if (c < '0' || c > '9') return std::nullopt;
    frac += (c - '0') * scale;
    scale /= 10;
  }
  if (whole == 1 && frac != 0) return std::nullopt;
  return whole * 1000 + frac;
}

// One list element: coding [ OWS ";" OWS "q=" qvalue ]. Only the weight is
// defined for Accept-Encoding, so any other parameter is malformed.
bool parse_element(std::string_view element, AcceptEncoding& into) {
  size_t n = 0;
  while (n < element.size() && config::detail::is_tchar(element[n])) ++n;
  if (n == 0) return false;
  std::string_view coding = element.substr(0, n);
  std::string_view rest = http::trim_ows(element.substr(n));
  int q = 1000;
  if (!rest.empty()) {
    if (rest[0] != ';') return false;
    rest = http::trim_ows(rest.substr(1));
    if (rest.size() < 2 || (rest[0] != 'q' && rest[0] != 'Q') || rest[1] != '=') return false;
    auto weight = parse_qvalue(rest.substr(2));
    if (!weight) return false;
    q = *weight;
  }
  // The same name listed twice is not forbidden; its lower weight counts
  // ("gzip, gzip;q=0" refuses gzip, as nginx's first-entry rule does).
  auto set = [q](int& slot) { slot = slot == kUnlisted ? q : std::min(slot, q); };
  if (http::iequals(coding, "gzip")) {
    set(into.gzip);
  } else if (http::iequals(coding, "x-gzip")) {
    set(into.x_gzip);
  } else if (http::iequals(coding, "identity")) {
    set(into.identity);
  } else if (coding == "*") {
    set(into.any);
  }
  return true;  // other codings (br, zstd, deflate) are valid and irrelevant
}

}  // namespace

int AcceptEncoding::gzip_weight() const {
  if (const int own = std::max(gzip, x_gzip); own != kUnlisted) return own;
  if (any != kUnlisted) return any;
  return 0;
}

bool AcceptEncoding::prefers_gzip() const {
  int g = gzip_weight();
  if (g == 0) return false;
  int id = identity != kUnlisted ? identity : any;
  // A tie goes to gzip: the client accepts both equally and gzip saves bytes.
  return id == kUnlisted || g >= id;
}

bool parse_accept_encoding(std::string_view value, AcceptEncoding& into) {
  // Empty elements (", ,gzip") are allowed by the list syntax: skipped.
  std::string_view element;
  while (http::next_list_element(value, element))
    if (!parse_element(element, into)) return false;
  return true;
}

bool client_accepts_gzip(const http::HeaderList& request_headers) {
  AcceptEncoding accept;
  bool present = false;
  for (const http::Header& h : request_headers) {
    if (!http::iequals(h.name, "accept-encoding")) continue;
    present = true;
    if (!parse_accept_encoding(h.value, accept)) return false;
  }
  return present && accept.prefers_gzip();
}

}  // namespace ringway::filters::compress
