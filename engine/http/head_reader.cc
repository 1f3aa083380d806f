#include "engine/http/head_reader.h"

#include <algorithm>
#include <cstring>

#include "config/text_util.h"

namespace ringway::http {

namespace {

HeadReader* self(llhttp_t* p) { return static_cast<HeadReader*>(p->data); }

bool blank(char c) { return c == ' ' || c == '\t'; }

// Whether a line in [begin, end) after the first starts with a space or a
// tab: an obs-fold (RFC 9112 5.2), whatever the continuation holds, or
// whitespace between the start line and the first field (2.2). llhttp
// accepts folds; a proxy may refuse them, and accepting them invites
// smuggling, so both are refused. One rule for every shape: a fold inside a
// value, after an empty first line, or of blanks only.
bool has_folded_line(const char* begin, const char* end) {
  for (const char* p = begin; p < end;) {
    p = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (p == nullptr || ++p == end) return false;
    if (blank(*p)) return true;
  }
  return false;
}

}  // namespace

const llhttp_settings_t* HeadReader::settings() {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t x;
    llhttp_settings_init(&x);
    x.on_method = &HeadReader::on_method;
    x.on_url = &HeadReader::on_url;
    x.on_header_field = &HeadReader::on_header_field;
    x.on_header_value = &HeadReader::on_header_value;
    x.on_header_value_complete = &HeadReader::on_header_value_complete;
    x.on_headers_complete = &HeadReader::on_headers_complete;
    x.on_body = &HeadReader::on_body;
    x.on_chunk_header = &HeadReader::on_chunk_header;
    x.on_chunk_extension_name = &HeadReader::on_chunk_extension_part;
    x.on_chunk_extension_value = &HeadReader::on_chunk_extension_part;
    x.on_chunk_extension_name_complete = &HeadReader::on_chunk_extension_part_complete;
    x.on_chunk_extension_value_complete = &HeadReader::on_chunk_extension_part_complete;
    x.on_message_complete = &HeadReader::on_message_complete;
    return x;
  }();
  return &s;
}

HeadReader::HeadReader(llhttp_type_t type) {
  llhttp_init(&parser_, type, settings());
  parser_.data = this;
  // llhttp refuses any version but 0.9, 1.0, 1.1 and 2.0 as a syntax error.
  // RFC 9112 2.3 wants HTTP/1.x with a higher minor treated as 1.1, and
  // another major is well-formed but unsupported (a request gets 505, see
  // Proxy::check_request). The grammar (one digit each) is still enforced.
  // llhttp_reset keeps the flag.
  parser_.lenient_flags |= LENIENT_VERSION;
}

void HeadReader::reset(const HeadLimits& limits) {
  llhttp_reset(&parser_);
  parser_.data = this;
  limits_ = limits;
  base_ = nullptr;
  spill_.clear();
  spilled_ = false;
  in_value_ = false;
  trailer_name_bytes_ = 0;
  in_trailers_ = false;
  trailer_line_start_ = false;
  trailers_from_ = nullptr;
  trailer_bytes_ = 0;
  last_byte_ = 0;
  complete_ = false;
  message_done_ = false;
  method_pending_ = false;
  head_bytes_ = 0;
  chunked_payload_ = 0;
  chunks_ = 0;
  chunk_framing_bytes_ = 0;
  extension_part_bytes_ = 0;
  method_ = {};
  target_ = {};
  headers_.clear();
  error_status_ = 0;
  error_reason_ = "";
}

HeadStatus HeadReader::fail(int status, const char* reason) {
  error_status_ = status;
  error_reason_ = reason;
  return HeadStatus::kError;
}

// llhttp knows a fixed table of methods. Another well-formed token is a
// method this server does not implement, 501 (RFC 9110 9.1, 15.6.2), not a
// malformed request: the verdict waits for the space that ends the token
// (the bytes so far are in spill_, which never holds more than the head's
// bound), so it does not depend on how the line was split across reads.
HeadStatus HeadReader::judge_unknown_method(size_t len, size_t* consumed) {
  constexpr size_t kLongestMethod = 32;
  std::string_view line(spill_);
  // llhttp skips any run of CR and LF before a request (RFC 9112 2.2).
  line.remove_prefix(std::min(line.size(), line.find_first_not_of("\r\n")));
  size_t n = 0;
  while (n < line.size() && n <= kLongestMethod && config::detail::is_tchar(line[n])) ++n;
  if (n > 0 && n <= kLongestMethod && n < line.size() && line[n] == ' ')
    return fail(501, "method not implemented");
  if (n < line.size() || n > kLongestMethod) return fail(400, "invalid method");
  // The token may go on, within the bound every head is held to.
  if (spill_.size() >= max_head_bytes()) return fail(431, "header fields too large");
  *consumed = len;
  return HeadStatus::kIncomplete;
}

void HeadReader::append(Span& span, const char* at, size_t len) {
  uint32_t off = static_cast<uint32_t>(at - base_);
  if (span.length == 0) span.offset = off;
  // llhttp may report one token in pieces; in contiguous memory they abut.
  span.length = off + static_cast<uint32_t>(len) - span.offset;
}

int HeadReader::on_method(llhttp_t* p, const char* at, size_t len) {
  self(p)->append(self(p)->method_, at, len);
  return 0;
}

int HeadReader::on_url(llhttp_t* p, const char* at, size_t len) {
  HeadReader* r = self(p);
  r->append(r->target_, at, len);
  if (r->target_.length > r->limits_.max_start_line) {
    r->error_status_ = 414;
    r->error_reason_ = "request-target too long";
    return -1;
  }
  return 0;
}

// Field callbacks after the head are trailers of a chunked body: they are
// never recorded (they live in another buffer; a proxy forwards or drops
// them as raw bytes), but held to the same rules as head fields: no empty
// name, no obs-fold, at most max_header_bytes in all.
int HeadReader::on_header_field(llhttp_t* p, const char* at, size_t len) {
  HeadReader* r = self(p);
  if (r->complete_) {
    if (!r->in_trailers_) {
      r->in_trailers_ = true;
      r->trailers_from_ = at;  // the trailer section's first byte
    }
    r->trailer_name_bytes_ += static_cast<uint32_t>(len);
    return r->count_trailer_bytes(len);
  }
  if (r->headers_.empty() || r->in_value_) {
    r->headers_.emplace_back();
    r->in_value_ = false;
  }
  r->append(r->headers_.back().name, at, len);
  return 0;
}

int HeadReader::on_header_value(llhttp_t* p, const char* at, size_t len) {
  HeadReader* r = self(p);
  if (r->complete_) return r->count_trailer_bytes(len);  // trailers: only checked
  r->in_value_ = true;
  r->append(r->headers_.back().value, at, len);
  return 0;
}

int HeadReader::on_header_value_complete(llhttp_t* p) {
  HeadReader* r = self(p);
  if (r->complete_) {
    const bool named = r->trailer_name_bytes_ != 0;
    r->trailer_name_bytes_ = 0;
    return named ? 0 : r->refuse_empty_name();
  }
  r->in_value_ = true;  // an empty value gets no on_header_value call
  if (r->headers_.empty() || r->headers_.back().name.length == 0) return r->refuse_empty_name();
  Span& v = r->headers_.back().value;
  // llhttp drops leading whitespace; trailing OWS is ours to trim. (A fold
  // is refused once the head is complete: has_folded_line.)
  while (v.length > 0) {
    char c = r->base_[v.offset + v.length - 1];
    if (c != ' ' && c != '\t') break;
    --v.length;
  }
  return 0;
}

// The trailer bytes of one feed_chunked() buffer, [begin, end): a line that
// starts with a blank is a fold. Whether the last buffer ended at a line
// start is carried over, so the verdict does not depend on how the bytes
// were split.
bool HeadReader::trailer_folded(const char* begin, const char* end) {
  for (const char* p = begin; p < end; ++p) {
    if (trailer_line_start_ && blank(*p)) return true;
    trailer_line_start_ = *p == '\n';
  }
  return false;
}

int HeadReader::refuse_empty_name() {
  error_status_ = 400;  // ": value" (llhttp lets an empty name through)
  error_reason_ = "empty header name";
  return -1;
}

int HeadReader::count_trailer_bytes(size_t len) {
  trailer_bytes_ += len;
  if (trailer_bytes_ <= limits_.max_header_bytes) return 0;
  error_status_ = 431;
  error_reason_ = "trailer section too large";
  return -1;
}

// Chunk sizes and extensions are framing, not payload, so max_body_bytes does
// not see them: each chunk gets enough for a 16-digit size and its line ends,
// and all chunks together may go over that by max_header_bytes (extensions
// are rare). Without a bound, "1;x=" and megabytes of extension, or a size
// padded with a million zeros, would be forwarded whatever the body limit.
int HeadReader::count_chunk_framing(uint64_t bytes) {
  constexpr uint64_t kPerChunk = 32;
  chunk_framing_bytes_ += bytes;
  if (chunk_framing_bytes_ <= (chunks_ + 1) * kPerChunk + limits_.max_header_bytes) return 0;
  error_status_ = 400;
  error_reason_ = "chunk header too long";
  return -1;
}

int HeadReader::on_chunk_header(llhttp_t* p) {
  ++self(p)->chunks_;
  return 0;
}

// llhttp takes an empty chunk extension name or value (";=x", ";a="),
// which RFC 9112 7.1.1 does not (a token, or a quoted-string with its
// quotes). Chunks are forwarded as they came, so a shape outside the grammar
// would reach an upstream whose parser may read it otherwise.
int HeadReader::on_chunk_extension_part(llhttp_t* p, const char*, size_t len) {
  self(p)->extension_part_bytes_ += len;
  return 0;
}

int HeadReader::on_chunk_extension_part_complete(llhttp_t* p) {
  HeadReader* r = self(p);
  const bool empty = r->extension_part_bytes_ == 0;
  r->extension_part_bytes_ = 0;
  if (!empty) return 0;
  r->error_status_ = 400;
  r->error_reason_ = "empty chunk extension";
  return -1;
}

int HeadReader::refuse_obs_fold() {
  error_status_ = 400;
  error_reason_ = "obsolete line folding";
  return -1;
}

int HeadReader::on_headers_complete(llhttp_t* p) {
  self(p)->complete_ = true;
  return HPE_PAUSED;  // stop here: the caller decides what the body is
}

int HeadReader::on_body(llhttp_t* p, const char* at, size_t len) {
  HeadReader* r = self(p);
  r->chunked_payload_ += len;
  if (r->payload_ != nullptr) r->payload_->emplace_back(at, len);
  return 0;
}

int HeadReader::on_message_complete(llhttp_t* p) {
  self(p)->message_done_ = true;
  return HPE_PAUSED;  // the next message (pipelined) is not ours to parse
}

HeadStatus HeadReader::feed(const char* data, size_t len, size_t* consumed) {
  const char* start = data;
  size_t old_spill = spill_.size();
  const size_t max_head = max_head_bytes();
  if (spilled_) {
    // Only the head is ever spilled, so more than this is all head too.
    if (old_spill + len > max_head) len = old_spill < max_head ? max_head - old_spill : 0;
    spill_.append(data, len);
    base_ = spill_.data();
    start = spill_.data() + old_spill;
  } else {
    base_ = data;
  }

  if (method_pending_) return judge_unknown_method(len, consumed);
  llhttp_errno_t err = llhttp_execute(&parser_, start, len);
  if (err == HPE_PAUSED && complete_) {
    size_t used = static_cast<size_t>(llhttp_get_error_pos(&parser_) - start);
    head_bytes_ += static_cast<uint32_t>(used);
    if (header_bytes() > limits_.max_header_bytes || head_bytes_ > max_head)
      return fail(431, "header fields too large");
    if (has_folded_line(base_, base_ + head_bytes_)) return fail(400, "obsolete line folding");
    if (parser_.type == HTTP_RESPONSE && (parser_.status_code < 100 || parser_.status_code > 599))
      return fail(400, "invalid status code");
    if (parser_.type == HTTP_RESPONSE && parser_.http_major != 1) return fail(400, "unsupported HTTP version");
    *consumed = used;
    if (spilled_) spill_.resize(old_spill + used);  // drop body bytes copied with it
    return HeadStatus::kComplete;
  }
  if (err != HPE_OK) {
    if (error_status_ != 0) return HeadStatus::kError;  // set by a callback
    if (err == HPE_INVALID_METHOD && parser_.type == HTTP_REQUEST) {
      if (!spilled_) {
        spill_.assign(data, std::min(len, max_head));
        spilled_ = true;
        base_ = spill_.data();
      }
      method_pending_ = true;
      return judge_unknown_method(len, consumed);
    }
    // RTSP's methods are in llhttp's table but refused on an HTTP request
    // once its version is read: well-formed, not implemented here.
    if (err == HPE_INVALID_CONSTANT && parser_.type == HTTP_REQUEST &&
        parser_.method >= HTTP_DESCRIBE && parser_.method <= HTTP_FLUSH)
      return fail(501, "method not implemented");
    return fail(400, parser_.reason ? parser_.reason : "malformed message head");
  }

  head_bytes_ += static_cast<uint32_t>(len);
  if (head_bytes_ >= max_head || header_bytes() > limits_.max_header_bytes) {
    if (headers_.empty() && method_.length > 0) return fail(414, "request-target too long");
    return fail(431, "header fields too large");
  }
  if (!spilled_) {
    // The head continues in the next buffer: copy what we have so views can
    // stay contiguous. Rare on real traffic (heads are small).
    spill_.assign(data, len);
    spilled_ = true;
    base_ = spill_.data();
  }
  *consumed = len;
  return HeadStatus::kIncomplete;
}

// The request-target and the fields have their own limits; the method,
// version, line ends and the empty lines RFC 9112 2.2 lets precede a request
// get a fixed allowance, so a head's verdict does not depend on how it was
// split across reads.
size_t HeadReader::max_head_bytes() const {
  constexpr size_t kStartLineAllowance = 64;
  return size_t{limits_.max_start_line} + limits_.max_header_bytes + kStartLineAllowance;
}

uint32_t HeadReader::header_bytes() const {
  // Everything after the start line, which ends where the first field begins.
  if (headers_.empty()) return 0;
  return head_bytes_ - headers_.front().name.offset;
}

void HeadReader::own_head() {
  if (spilled_) return;
  spill_.assign(base_, head_bytes_);
  base_ = spill_.data();
  spilled_ = true;
}

bool HeadReader::keep_alive() const { return llhttp_should_keep_alive(&parser_) != 0; }

void HeadReader::fill(HeaderList& out) const {
  out.clear();
  for (const auto& h : headers_) out.push_back({view(h.name), view(h.value)});
}

BodyFraming HeadReader::request_framing() const {
  if (parser_.flags & F_CHUNKED) return BodyFraming::kChunked;
  if ((parser_.flags & F_CONTENT_LENGTH) && parser_.content_length > 0)
    return BodyFraming::kContentLength;
  return BodyFraming::kNone;
}

BodyFraming HeadReader::response_framing(bool request_was_head) const {
  int status = parser_.status_code;
  if (request_was_head || (status >= 100 && status < 200) || status == 204 || status == 304)
    return BodyFraming::kNone;
  if (parser_.flags & F_CHUNKED) return BodyFraming::kChunked;
  if (parser_.flags & F_TRANSFER_ENCODING) return BodyFraming::kUntilClose;
  if (parser_.flags & F_CONTENT_LENGTH)
    return parser_.content_length > 0 ? BodyFraming::kContentLength : BodyFraming::kNone;
  return BodyFraming::kUntilClose;
}

long HeadReader::feed_chunked(const char* data, size_t len, PayloadPieces* payload) {
  payload_ = payload;
  const uint64_t payload_before = chunked_payload_;
  trailers_from_ = nullptr;
  const bool trailers_before = in_trailers_;
  if (llhttp_get_errno(&parser_) == HPE_PAUSED) llhttp_resume(&parser_);
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  const char* end = data + len;
  if (err == HPE_PAUSED && message_done_) {
    end = llhttp_get_error_pos(&parser_);
  } else if (err != HPE_OK) {
    return -1;
  }
  if (in_trailers_) {
    if (trailers_before) trailers_from_ = data;
    if (trailer_folded(trailers_from_, end)) {
      message_done_ = false;  // refused, not complete (llhttp read it to the end)
      return refuse_obs_fold();
    }
  }
  const char* framing_end = in_trailers_ ? trailers_from_ : end;  // trailers count apart
  if (count_chunk_framing(static_cast<uint64_t>(framing_end - data) -
                          (chunked_payload_ - payload_before)) < 0) {
    message_done_ = false;
    return -1;
  }
  if (message_done_) {
    // llhttp takes a bare LF for the CRLF that ends the message; forwarded
    // as it came, it would leave an upstream that wants CRLF waiting.
    const char before = end - data >= 2 ? end[-2] : last_byte_;
    if (end == data || end[-1] != '\n' || before != '\r') {
      message_done_ = false;
      return -1;
    }
  }
  if (end > data) last_byte_ = end[-1];
  return end - data;
}

}  // namespace ringway::http
