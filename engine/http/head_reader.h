#pragma once
// Incremental, strict reader of one HTTP/1.1 message head (request or
// response) on top of llhttp.
//
// Bytes arrive in receive buffers that the kernel filled. In the common case a
// whole head sits in one buffer and the reader records views straight into it
// (no copy). A head split across buffers is copied into a spill buffer so the
// views stay contiguous; the body bytes after the head are never copied: feed()
// says how many bytes of the input belonged to the head, the caller forwards the
// rest from its own buffer.

#include <llhttp.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/inlined_vector.h"
#include "engine/http/request_head.h"

namespace ringway::http {

struct HeadLimits {
  uint32_t max_start_line = 8 * 1024;    // request-target length (414 above)
  uint32_t max_header_bytes = 32 * 1024;  // header fields, start line excluded (431 above)
};

enum class HeadStatus { kIncomplete, kComplete, kError };

// How the body that follows a head is delimited (RFC 9112 section 6).
enum class BodyFraming { kNone, kContentLength, kChunked, kUntilClose };

class HeadReader {
 public:
  explicit HeadReader(llhttp_type_t type);
  HeadReader(const HeadReader&) = delete;
  HeadReader& operator=(const HeadReader&) = delete;

  // Starts a new message. Keeps the spill buffer's capacity.
  void reset(const HeadLimits& limits);

  // Feeds the next bytes. On kComplete, *consumed is how many of them belonged
  // to the head; the views below are valid while `data` (or the spill buffer)
  // lives. On kIncomplete all bytes were consumed and copied as needed.
  HeadStatus feed(const char* data, size_t len, size_t* consumed);

  // After kError: the status to answer with (400, 414, 431, 501) and a short reason.
  int error_status() const { return error_status_; }
  const char* error_reason() const { return error_reason_; }

  // After kComplete.
  std::string_view method() const { return view(method_); }
  std::string_view target() const { return view(target_); }
  int status_code() const { return parser_.status_code; }
  int version_major() const { return parser_.http_major; }
  int version_minor() const { return parser_.http_minor; }
  bool keep_alive() const;  // per the version and Connection header
  size_t header_count() const { return headers_.size(); }
  Header header(size_t i) const { return {view(headers_[i].name), view(headers_[i].value)}; }
  void fill(HeaderList& out) const;
  uint64_t content_length() const { return parser_.content_length; }
  // Framing of a request body, or of a response body given the request method
  // and the status (HEAD, 1xx, 204, 304 have none).
  BodyFraming request_framing() const;
  BodyFraming response_framing(bool request_was_head) const;
  bool spilled() const { return spilled_; }
  // Copies a complete head out of the caller's buffer into the reader's own
  // memory (if it is not there already), so views stay valid after the caller
  // releases its buffer. Call before fill().
  void own_head();

  // The body parser: after a kComplete head with chunked framing, the caller
  // feeds body bytes here; returns the number of bytes up to and including the
  // end of the message, or len if the message continues, or -1 on a framing
  // error (bad chunk size, bare CR...). The raw bytes are forwarded as they
  // are; with `payload`, the decoded body pieces (views into `data`) are also
  // appended to it, for filters that read the body.
  using PayloadPieces = absl::InlinedVector<std::string_view, 4>;
  long feed_chunked(const char* data, size_t len, PayloadPieces* payload = nullptr);

  // feed_chunked() reached the end of the message.
  bool message_complete() const { return message_done_; }

  // The message has a trailer section (fields after the last chunk). Its
  // bytes in the last feed_chunked() buffer begin at trailers_start(): where
  // the section began, or the buffer's first byte if it began in an earlier
  // one. A proxy that drops trailers forwards the bytes before it and ends
  // the message with its own CRLF.
  bool has_trailers() const { return in_trailers_; }
  const char* trailers_start() const { return trailers_from_; }

  // The last chunked parse produced this many payload bytes (for body limits).
  uint64_t chunked_payload_bytes() const { return chunked_payload_; }

 private:
  struct Span {
    uint32_t offset = 0;
    uint32_t length = 0;
  };
  struct HeaderSpan {
    Span name;
    Span value;
  };

  std::string_view view(Span s) const { return {base_ + s.offset, s.length}; }
  void append(Span& span, const char* at, size_t len);
  HeadStatus fail(int status, const char* reason);
  HeadStatus judge_unknown_method(size_t len, size_t* consumed);
  uint32_t header_bytes() const;
  size_t max_head_bytes() const;

  bool trailer_folded(const char* begin, const char* end);
  int refuse_empty_name();
  int refuse_obs_fold();
  int count_trailer_bytes(size_t len);
  int count_chunk_framing(uint64_t bytes);
  static int on_method(llhttp_t*, const char*, size_t);
  static int on_url(llhttp_t*, const char*, size_t);
  static int on_header_field(llhttp_t*, const char*, size_t);
  static int on_header_value(llhttp_t*, const char*, size_t);
  static int on_header_value_complete(llhttp_t*);
  static int on_headers_complete(llhttp_t*);
  static int on_body(llhttp_t*, const char*, size_t);
  static int on_chunk_header(llhttp_t*);
  static int on_chunk_extension_part(llhttp_t*, const char*, size_t);
  static int on_chunk_extension_part_complete(llhttp_t*);
  static int on_message_complete(llhttp_t*);
  static const llhttp_settings_t* settings();

  llhttp_t parser_;
  HeadLimits limits_;
  const char* base_ = nullptr;  // where offsets count from (input or spill)
  std::string spill_;
  bool spilled_ = false;
  bool in_value_ = false;
  // The trailer field being read (an empty name is refused), whether the
  // trailer section has begun, where its bytes in this buffer begin, and whether
  // the bytes checked so far end at a line start (see trailer_folded).
  uint32_t trailer_name_bytes_ = 0;
  bool in_trailers_ = false;
  const char* trailers_from_ = nullptr;
  uint64_t trailer_bytes_ = 0;  // field names and values of the trailer section
  char last_byte_ = 0;  // of the previous feed_chunked() buffer: a CRLF may straddle two
  bool trailer_line_start_ = false;
  bool complete_ = false;
  bool message_done_ = false;
  bool method_pending_ = false;  // llhttp refused the method: 400 or 501, once its end is seen
  uint32_t head_bytes_ = 0;
  uint64_t chunked_payload_ = 0;
  uint64_t chunks_ = 0;               // chunk size lines read
  uint64_t chunk_framing_bytes_ = 0;  // their bytes, extensions and CRLFs
  uint64_t extension_part_bytes_ = 0;  // of the chunk extension name or value being read
  PayloadPieces* payload_ = nullptr;
  Span method_;
  Span target_;
  absl::InlinedVector<HeaderSpan, 24> headers_;
  int error_status_ = 0;
  const char* error_reason_ = "";
};

}  // namespace ringway::http
