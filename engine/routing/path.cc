#include "engine/routing/path.h"

#include <cstdint>
#include <cstring>

namespace ringway::routing {
namespace {

// Per-byte classification, built at compile time so the hot loop is a table
// lookup per byte with no branches on the character value.
struct Tables {
  // Nonzero for bytes that send a path to the slow path ('%') or that the slow
  // path will reject (so the fast path never has to produce an error itself).
  uint8_t path_special[256] = {};
  // Hex digit value, or 0xFF for a non-hex byte.
  uint8_t hex[256] = {};
  // RFC 3986 unreserved: decoded when percent-encoded.
  bool unreserved[256] = {};
  // Control characters (< 0x20, DEL): never allowed in the query.
  bool control[256] = {};
};

constexpr Tables make_tables() {
  Tables t;
  for (int c = 0; c < 256; ++c) {
    const bool ctl = c < 0x20 || c == 0x7F;
    t.control[c] = ctl;
    t.path_special[c] =
        (ctl || c >= 0x80 || c == '%' || c == '\\' || c == '#' || c == ' ' || c == ';') ? 1 : 0;
    t.hex[c] = 0xFF;
    if (c >= '0' && c <= '9') t.hex[c] = static_cast<uint8_t>(c - '0');
    if (c >= 'a' && c <= 'f') t.hex[c] = static_cast<uint8_t>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') t.hex[c] = static_cast<uint8_t>(c - 'A' + 10);
    t.unreserved[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                      c == '~';
  }
  return t;
}

constexpr Tables kTables = make_tables();
constexpr char kUpperHex[] = "0123456789ABCDEF";

inline unsigned char byte_at(std::string_view s, size_t i) {
  return static_cast<unsigned char>(s[i]);
}

// ASCII case-insensitive "starts with" against a lower-case literal.
bool istarts_with(std::string_view s, std::string_view lower_prefix) {
  if (s.size() < lower_prefix.size()) return false;
  for (size_t i = 0; i < lower_prefix.size(); ++i) {
    unsigned char c = byte_at(s, i);
    if (static_cast<unsigned>(c - 'A') < 26u) c += 32;
    if (c != static_cast<unsigned char>(lower_prefix[i])) return false;
  }
  return true;
}

// Removes dot segments and folds empty segments of `s` in place. `s` starts
// with '/' and has already been percent-decoded (unreserved characters only).
// Works segment by segment: the output is a stack of "/seg" entries written at
// the front of the same buffer; it never outgrows what has been read, so the
// write position stays at or behind the read position.
const char* remove_dot_segments(std::string& s) {
  char* d = s.data();
  const size_t n = s.size();
  size_t w = 0;  // output length
  size_t r = 0;  // index of the '/' that opens the current segment
  // Whether the output needs a trailing '/': true when the last input segment
  // was empty, "." or ".." (RFC 3986: "/a/b/.." -> "/a/").
  bool trailing = false;
  while (r < n) {
    const size_t start = r + 1;
    const char* end_ptr = static_cast<const char*>(std::memchr(d + start, '/', n - start));
    const size_t end = end_ptr ? static_cast<size_t>(end_ptr - d) : n;
    const size_t len = end - start;
    const char* seg = d + start;
    if (len == 0 || (len == 1 && seg[0] == '.')) {
      trailing = true;
    } else if (len == 2 && seg[0] == '.' && seg[1] == '.') {
      // Pop the last "/seg" of the output; at root there is nothing to pop,
      // which is how "/../x" stays "/x".
      while (w > 0 && d[--w] != '/') {
      }
      trailing = true;
    } else {
      std::memmove(d + w + 1, seg, len);
      d[w] = '/';
      w += len + 1;
      trailing = false;
    }
    r = end;
  }
  if (w == 0) {
    d[w++] = '/';
  } else if (trailing) {
    d[w++] = '/';  // room: the skipped last segment consumed at least its '/'
  }
  s.resize(w);
  return nullptr;
}

// Decodes unreserved escapes, validates every byte, then removes dot segments.
const char* normalize_path_slow(std::string_view in, std::string& out) {
  // Decoding never lengthens the path (kept escapes stay three bytes).
  out.resize(in.size());
  char* d = out.data();
  size_t w = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const unsigned char c = byte_at(in, i);
    if (c == '%') {
      if (in.size() - i < 3) return "malformed percent-encoding in path";
      const uint8_t hi = kTables.hex[byte_at(in, i + 1)];
      const uint8_t lo = kTables.hex[byte_at(in, i + 2)];
      if ((hi | lo) & 0xF0) return "malformed percent-encoding in path";
      const unsigned char v = static_cast<unsigned char>(hi << 4 | lo);
      // Upstreams disagree on whether these decode before path splitting;
      // refusing them removes the ambiguity instead of guessing.
      if (v == '/') return "encoded slash in path";
      if (v == '\\') return "encoded backslash in path";
      if (v == 0) return "encoded NUL in path";
      if (kTables.unreserved[v]) {
        d[w++] = static_cast<char>(v);
      } else {
        d[w++] = '%';
        d[w++] = kUpperHex[hi];
        d[w++] = kUpperHex[lo];
      }
      i += 2;
      continue;
    }
    if (kTables.path_special[c]) {
      if (c == '\\') return "backslash in path";
      if (c >= 0x80) return "non-ASCII byte in path";
      if (c == '#') return "fragment in request-target";
      // Path parameters: servlet containers cut "/admin;x/y" to "/admin/y"
      // and "/a/..;/admin" to "/admin" before they route, so the path this
      // gateway routes and authorises would not be the one served.
      if (c == ';') return "semicolon in path";
      if (c == ' ') return "space in path";
      return "control character in path";
    }
    d[w++] = static_cast<char>(c);
  }
  out.resize(w);
  return remove_dot_segments(out);
}

// `path` is non-empty and starts with '/'.
const char* normalize_path(std::string_view path, std::string& out) {
  // Fast path: one pass, no branches on the byte values. `slow` collects any
  // special byte and any "//" or "/." pair; such paths get the full treatment.
  unsigned slow = 0;
  unsigned char prev = 0;
  for (size_t i = 0; i < path.size(); ++i) {
    const unsigned char c = byte_at(path, i);
    slow |= kTables.path_special[c];
    slow |= static_cast<unsigned>(prev == '/') & static_cast<unsigned>((c == '/') | (c == '.'));
    prev = c;
  }
  if (!slow) {
    out.assign(path);
    return nullptr;
  }
  return normalize_path_slow(path, out);
}

const char* check_authority(std::string_view authority) {
  if (authority.empty()) return "empty authority";
  // Userinfo is deprecated for http(s) URIs and only useful for confusing
  // which part is the host ("http://good.example@evil.example/").
  if (authority.find('@') != std::string_view::npos) return "userinfo in authority";
  if (check_host(authority) != nullptr) return "invalid character in authority";
  return nullptr;
}

}  // namespace

const char* normalize_target(std::string_view target, TargetParts& out) {
  out.query = {};
  out.authority = {};
  if (target.empty()) return "empty request-target";

  std::string_view rest = target;
  if (target[0] != '/') {
    if (target == "*") return "asterisk-form request-target";
    size_t scheme_len = 0;
    if (istarts_with(target, "http://")) {
      scheme_len = 7;
    } else if (istarts_with(target, "https://")) {
      scheme_len = 8;
    } else if (target.find("://") != std::string_view::npos) {
      return "unsupported scheme in request-target";
    } else {
      return "unsupported request-target form";  // authority-form and garbage
    }
    rest = target.substr(scheme_len);
    const size_t authority_end = rest.find_first_of("/?#");
    const std::string_view authority = rest.substr(0, authority_end);
    if (const char* err = check_authority(authority)) return err;
    out.authority = authority;
    rest = authority_end == std::string_view::npos ? std::string_view{}
                                                   : rest.substr(authority_end);
    if (!rest.empty() && rest[0] == '#') return "fragment in request-target";
  }

  std::string_view path = rest;
  const size_t q = rest.find('?');
  if (q != std::string_view::npos) {
    path = rest.substr(0, q);
    const std::string_view query = rest.substr(q + 1);
    for (size_t i = 0; i < query.size(); ++i) {
      if (kTables.control[byte_at(query, i)]) return "control character in query";
      // Not part of a request-target (RFC 9112 3.2): filters would see it
      // in the query while most upstreams drop what follows it.
      if (query[i] == '#') return "fragment in request-target";
    }
    out.query = query;
  }
  if (path.empty()) path = "/";  // absolute-form without a path
  return normalize_path(path, out.path);
}

}  // namespace ringway::routing
