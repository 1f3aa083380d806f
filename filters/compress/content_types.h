#pragma once
// The media types worth compressing, as configured: exact "type/subtype"
// entries, "type/*" wildcards and "*/*". Matching ignores case and the
// parameters of the response's Content-Type ("text/html; charset=utf-8").

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ringway::filters::compress {

class TypeList {
 public:
  // The default list: text formats that shrink 3-10x. text/event-stream is
  // left out on purpose: the compressor holds bytes back until it has a
  // block's worth, which would stall a stream of small events.
  static TypeList defaults();

  // Lower-cased "type/subtype", "type/*" or "*/*"; nullopt when `entry` is
  // not of that shape (no parameters allowed in the list).
  static std::optional<std::string> normalize(std::string_view entry);

  // `entry` must come from normalize().
  void add(std::string entry);

  // True when the media type of `content_type` (a header value) is listed.
  bool matches(std::string_view content_type) const;

  const std::vector<std::string>& entries() const { return entries_; }

 private:
  std::vector<std::string> entries_;  // as given, for docs and tests
  std::vector<std::string> exact_;    // "text/html"
  std::vector<std::string> families_;  // "text/" from "text/*"
  bool any_ = false;                   // "*/*"
};

}  // namespace ringway::filters::compress
