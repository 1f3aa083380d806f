// Request handling of a Worker: the llhttp callbacks and the glue between a
// parsed request and the endpoint code in handlers.cc. The socket side is in
// worker.cc.

#include <cstring>

#include "tools/origin/websocket.h"
#include "tools/origin/worker.h"

namespace ringway::origin {

void Worker::process_input(Connection& c) {
  if (c.websocket) {
    // Frames up to what the input buffer holds whole, with their header.
    FrameEcho r = echo_frames(std::string_view(c.in.get() + c.in_parse, c.in_end - c.in_parse),
                              kInSize - 14, c.out);
    c.in_parse += static_cast<uint32_t>(r.consumed);
    c.ws_partial = c.in_parse < c.in_end;
    if (r.close) c.closing = true;
    return;
  }
  while (can_parse(c)) {
    const char* base = c.in.get();
    llhttp_errno_t err = llhttp_execute(&c.parser, base + c.in_parse, c.in_end - c.in_parse);
    if (err == HPE_OK) {
      c.in_parse = c.in_end;
      return;
    }
    if (err == HPE_PAUSED) {
      // Paused after a message whose answer must go out before the next one.
      c.in_parse = static_cast<uint32_t>(llhttp_get_error_pos(&c.parser) - base);
      llhttp_resume(&c.parser);
      continue;
    }
    if (err == HPE_PAUSED_UPGRADE && c.websocket) {
      // The 101 is out: what follows are frames.
      c.in_parse = static_cast<uint32_t>(llhttp_get_error_pos(&c.parser) - base);
      return;
    }
    if (err == HPE_PAUSED_UPGRADE) {
      // The request was answered normally; what follows would be another
      // protocol, which this origin does not speak.
      c.in_parse = c.in_end;
      c.closing = true;
      return;
    }
    // Malformed request: answer 400 unless a response is already under way.
    c.in_parse = c.in_end;
    c.head_start = -1;
    if (!c.response_started) write_error(c.out, 400, std::string_view(date_, date_len_));
    c.echo_active = false;
    c.closing = true;
    return;
  }
}

int Worker::on_message_begin(llhttp_t* p) {
  Connection& c = *static_cast<Connection*>(p->data);
  c.head_start = -1;
  c.body_bytes = 0;
  c.echo_active = false;
  c.response_started = false;
  return 0;
}

int Worker::on_method(llhttp_t* p, const char* at, size_t) {
  // The first piece of the method marks where the raw head starts (leading
  // CRLFs that llhttp skips are not part of it).
  Connection& c = *static_cast<Connection*>(p->data);
  if (c.head_start < 0) c.head_start = static_cast<int32_t>(at - c.in.get());
  return 0;
}

int Worker::on_headers_complete(llhttp_t* p) {
  Connection& c = *static_cast<Connection*>(p->data);
  return c.worker->headers_complete(c);
}

int Worker::on_body(llhttp_t* p, const char* at, size_t len) {
  Connection& c = *static_cast<Connection*>(p->data);
  c.body_bytes += len;
  if (c.echo_active && !c.head_method) {
    if (c.echo_framing == EchoFraming::kChunked) {
      c.out.prepare(len + 32);
      c.out.append_hex(len);
      c.out.append("\r\n");
      c.out.append(std::string_view(at, len));
      c.out.append("\r\n");
    } else {
      c.out.append(std::string_view(at, len));
    }
  }
  return 0;
}

int Worker::on_message_complete(llhttp_t* p) {
  Connection& c = *static_cast<Connection*>(p->data);
  return c.worker->message_complete(c);
}

int Worker::headers_complete(Connection& c) {
  bump(counters_[id_].requests);
  // The whole head is still in the buffer (make_room keeps it); it ends at the
  // first empty line.
  std::string_view head;
  if (c.head_start >= 0) {
    std::string_view rest(c.in.get() + c.head_start, c.in_end - c.head_start);
    size_t pos = 0;
    size_t end = rest.size();
    while ((pos = rest.find('\n', pos)) != std::string_view::npos) {
      ++pos;
      if (pos < rest.size() && rest[pos] == '\n') {
        end = pos + 1;
        break;
      }
      if (pos + 1 < rest.size() && rest[pos] == '\r' && rest[pos + 1] == '\n') {
        end = pos + 2;
        break;
      }
    }
    head = rest.substr(0, end);
  }
  size_t sp1 = head.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : head.find(' ', sp1 + 1);
  std::string_view target =
      sp2 == std::string_view::npos ? std::string_view("/") : head.substr(sp1 + 1, sp2 - sp1 - 1);

  llhttp_t& parser = c.parser;
  c.extra_headers.clear();
  c.route = parse_route(target, c.extra_headers);
  c.head_method = parser.method == HTTP_HEAD;
  c.http10 = parser.http_major == 1 && parser.http_minor == 0;
  c.keep_alive = llhttp_should_keep_alive(&parser) != 0;
  const bool chunked = (parser.flags & F_CHUNKED) != 0;
  const uint64_t length = chunked ? 0 : parser.content_length;
  const bool has_body = chunked || length > 0;
  if (has_body && !c.http10 && has_token(find_header(head, "expect"), "100-continue")) {
    write_continue(c.out);
  }
  if (c.route.kind == Endpoint::kHeaders) c.raw_head.assign(head);
  if (c.route.kind == Endpoint::kWebSocket && parser.upgrade && parser.method == HTTP_GET &&
      !has_body && has_token(find_header(head, "upgrade"), "websocket")) {
    if (const std::string_view key = find_header(head, "sec-websocket-key"); !key.empty()) {
      write_websocket_accept(c.out, key, std::string_view(date_, date_len_));
      c.websocket = true;
      c.response_started = true;
    }
  }
  if (c.route.kind == Endpoint::kEcho) {
    c.echo_framing = begin_echo(exchange(c), !chunked, length, c.out);
    c.echo_active = true;
    c.response_started = true;
  }
  c.head_start = -1;
  return 0;
}

int Worker::message_complete(Connection& c) {
  if (c.websocket) return 0;  // answered; llhttp stops with HPE_PAUSED_UPGRADE
  if (c.echo_active) {
    if (!c.head_method && c.echo_framing == EchoFraming::kChunked) c.out.append("0\r\n\r\n");
    if (!c.keep_alive || c.echo_framing == EchoFraming::kUntilClose) c.closing = true;
    c.echo_active = false;
  } else {
    Plan plan;
    respond(exchange(c), c.out, plan);
    apply(c, plan);
  }
  if (!c.keep_alive) c.closing = true;
  // Keep parsing pipelined requests in this execute unless this answer has to
  // finish (or the output has to drain) before the next one may start.
  bool pause = c.closing || c.streaming || c.delay_pending || c.out.size() >= kHighWater;
  return pause ? HPE_PAUSED : 0;
}

void Worker::apply(Connection& c, const Plan& plan) {
  if (plan.delay) {
    c.delay_pending = true;
    add_timer(c, now_ms() + static_cast<int64_t>(plan.delay_ms));
  }
  if (plan.stream) {
    c.body = plan.body;
    if (c.body.payload_left() <= kInlineBody) {
      c.body.drain_into(c.out);
    } else {
      c.streaming = true;
    }
  }
  if (plan.reset) c.reset_on_close = true;
  if (plan.close) c.closing = true;
}

Exchange Worker::exchange(const Connection& c) const {
  Exchange ex;
  ex.route = c.route;
  ex.extra_headers = c.extra_headers;
  ex.raw_head = c.raw_head;
  ex.date = std::string_view(date_, date_len_);
  ex.head_method = c.head_method;
  ex.keep_alive = c.keep_alive;
  ex.http10 = c.http10;
  ex.body_bytes = c.body_bytes;
  if (c.route.kind == Endpoint::kStats) {
    for (int i = 0; i < worker_count_; ++i) {
      ex.stats_accepted += counters_[i].accepted.load(std::memory_order_relaxed);
      ex.stats_requests += counters_[i].requests.load(std::memory_order_relaxed);
    }
  }
  return ex;
}

}  // namespace ringway::origin
