// routing::normalize_target: the whole input is a request-target.
//
// On success the path is canonical: it starts with '/', has no empty, "." or
// ".." segments, only bytes the normaliser lets through, upper-case escapes of
// reserved bytes only; normalising it again changes nothing.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/routing/path.h"
#include "tests/fuzz/fuzz_common.h"

using namespace ringway;

namespace {

bool is_hex_upper(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }
int hex_value(char c) { return c <= '9' ? c - '0' : c - 'A' + 10; }
bool is_unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_' || c == '~';
}

void check_canonical_path(const std::string& path) {
  FUZZ_CHECK(!path.empty() && path[0] == '/');
  FUZZ_CHECK(path.find("//") == std::string::npos);
  FUZZ_CHECK(path.find("/./") == std::string::npos);
  FUZZ_CHECK(path.find("/../") == std::string::npos);
  FUZZ_CHECK(!path.ends_with("/.") && !path.ends_with("/.."));
  FUZZ_CHECK(path.find('?') == std::string::npos);
  for (size_t i = 0; i < path.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(path[i]);
    FUZZ_CHECK(c > 0x20 && c < 0x7F);
    FUZZ_CHECK(c != '\\' && c != '#' && c != ';');
    if (c == '%') {
      FUZZ_CHECK(i + 2 < path.size());
      FUZZ_CHECK(is_hex_upper(path[i + 1]) && is_hex_upper(path[i + 2]));
      const int v = hex_value(path[i + 1]) * 16 + hex_value(path[i + 2]);
      FUZZ_CHECK(v != '/' && v != '\\' && v != 0);
      FUZZ_CHECK(!is_unreserved(static_cast<unsigned char>(v)));
      i += 2;
    }
  }
  // No dot segment left.
  size_t seg = 1;
  while (seg <= path.size()) {
    size_t end = path.find('/', seg);
    if (end == std::string::npos) end = path.size();
    std::string_view s(path.data() + seg, end - seg);
    FUZZ_CHECK(s != "." && s != "..");
    seg = end + 1;
  }
}

bool inside(std::string_view v, std::string_view whole) {
  return v.empty() || (v.data() >= whole.data() && v.data() + v.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Buffer buf(data, size);  // exact size: ASan catches reads past the target
  const std::string_view target(buf.begin(), size);

  routing::TargetParts parts;
  const char* reason = routing::normalize_target(target, parts);
  if (reason != nullptr) {
    FUZZ_CHECK(reason[0] != '\0');
    return 0;
  }
  check_canonical_path(parts.path);
  // The path never grows by more than the "/" added to an empty one.
  FUZZ_CHECK(parts.path.size() <= size + 1);

  // query and authority point into the target.
  FUZZ_CHECK(inside(parts.query, target));
  FUZZ_CHECK(inside(parts.authority, target));
  for (char c : parts.query) {
    const unsigned char u = static_cast<unsigned char>(c);
    FUZZ_CHECK(u >= 0x20 && u != 0x7F);
  }
  if (!parts.query.empty()) {
    FUZZ_CHECK(parts.query.data() > target.data() && parts.query.data()[-1] == '?');
  }
  if (!parts.authority.empty()) {
    FUZZ_CHECK(target[0] != '/');
    FUZZ_CHECK(parts.authority.find('@') == std::string_view::npos);
  } else if (target[0] != '/') {
    FUZZ_CHECK(!"an absolute-form target always has an authority");
  }

  // Idempotent: the canonical path is its own normal form.
  routing::TargetParts again;
  const char* reason2 = routing::normalize_target(parts.path, again);
  if (reason2 != nullptr) std::fprintf(stderr, "renormalising failed: %s\n", reason2);
  FUZZ_CHECK(reason2 == nullptr);
  FUZZ_CHECK(again.path == parts.path);
  FUZZ_CHECK(again.query.empty());

  // Normalising the path with the query re-attached keeps both.
  if (!parts.query.empty()) {
    std::string with_query = parts.path + "?" + std::string(parts.query);
    routing::TargetParts q;
    FUZZ_CHECK(routing::normalize_target(with_query, q) == nullptr);
    FUZZ_CHECK(q.path == parts.path);
    FUZZ_CHECK(q.query == parts.query);
  }
  return 0;
}
