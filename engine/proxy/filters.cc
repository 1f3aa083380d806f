// Running a request's filter chain (engine/filter/filter.h): the request-head
// phase between routing and the upstream, the response-head and body phases
// between the upstream's response and the client, responses filters make
// themselves, suspended requests, and the log phase when an exchange ends.

#include <algorithm>

#include "engine/proxy/proxy.h"

namespace ringway::proxy {

namespace {

bool has_phase(const filter::Filter* f, filter::Phase phase) { return (f->phases() & phase) != 0; }

void append_hex(std::string& out, size_t n) {
  char digits[16];
  int len = 0;
  do {
    digits[len++] = "0123456789abcdef"[n & 15];
    n >>= 4;
  } while (n != 0);
  while (len > 0) out.push_back(digits[--len]);
}

void remove_framing(http::HeaderList& headers) {
  headers.erase(std::remove_if(headers.begin(), headers.end(),
                               [](const http::Header& h) {
                                 return http::iequals(h.name, "content-length") ||
                                        http::iequals(h.name, "transfer-encoding");
                               }),
                headers.end());
}

}  // namespace

void Proxy::begin_filters(Exchange* ex) {
  size_t route = static_cast<size_t>(ex->route - config_->routes.data());
  const filter::FilterChain& chain = filters_->routes[route];
  if (chain.empty()) return;
  ex->chain = &chain;
  filter::Context& ctx = ex->ctx;
  ctx.begin(chain.filters.size(), route_states_[route].data(), this, ex, ex->generation);
  ctx.request = &ex->head;
  ctx.client_ip = ex->client->addr;
  ctx.route = ex->route;
  ctx.upstream = ex->route->upstream;
  ctx.now_ms = now_ms_;
  ctx.unix_ms = unix_ms_;
  ctx.worker_index = worker_index_;
  ctx.services = this;
  ex->filter_pos = 0;
}

bool Proxy::run_request_filters(Exchange* ex) {
  const filter::FilterChain& chain = *ex->chain;
  filter::Context& ctx = ex->ctx;
  if (!(chain.phases & filter::kRequestHead)) return true;
  ctx.now_ms = now_ms_;
  ctx.unix_ms = unix_ms_;
  for (size_t pos = ex->filter_pos; pos < chain.filters.size(); ++pos) {
    const filter::Filter* f = chain.filters[pos];
    if (!has_phase(f, filter::kRequestHead)) continue;
    ctx.enter(pos);
    switch (f->on_request_head(ctx)) {
      case filter::Outcome::kProceed:
        break;
      case filter::Outcome::kRespond:
        respond_from_filter(ex, pos);
        return false;
      case filter::Outcome::kSuspend:
        ex->filter_pos = static_cast<uint8_t>(pos);
        ex->suspended = true;
        return false;
    }
  }
  return true;
}

void Proxy::resume(void* request, uint32_t generation) {
  auto* ex = static_cast<Exchange*>(request);
  if (ex->generation != generation || !ex->suspended) return;
  resumed_.emplace_back(ex, generation);
}

void Proxy::run_resumed() {
  while (!resumed_.empty()) {
    auto list = std::move(resumed_);
    resumed_.clear();
    for (auto [ex, generation] : list) {
      // Gone (client closed) or already resumed by an earlier handle.
      if (ex->generation != generation || !ex->suspended) continue;
      ex->suspended = false;
      if (run_request_filters(ex)) forward_request(ex);
    }
  }
}

// A response of a filter's own (request-head phase, or in place of the
// upstream's): through the response phases of the filters before `position`
// (those the upstream's response would have passed), then to the client with
// the whole body in hand.
void Proxy::respond_from_filter(Exchange* ex, size_t position) {
  ClientConn* c = ex->client;
  dequeue(ex);
  if (ex->upstream != nullptr) close_upstream(ex->upstream);  // a request-body answer
  filter::Context& ctx = ex->ctx;
  const filter::FilterChain& chain = *ex->chain;
  filter::LocalResponse& local = ctx.local();
  ctx.response.status = local.status;
  ctx.response.headers = local.headers;
  ctx.response.content_length = static_cast<int64_t>(local.body.size());
  ctx.response.body_rewritten = false;
  uint32_t watchers_before = ctx.body_watchers();
  for (size_t pos = position; pos-- > 0;) {
    const filter::Filter* f = chain.filters[pos];
    if (!has_phase(f, filter::kResponseHead)) continue;
    ctx.enter(pos);
    f->on_response_head(ctx);  // the response is chosen; only its head may change
  }
  std::string_view body = local.body;
  uint32_t watchers = ctx.body_watchers() & ~watchers_before & ((1u << position) - 1);
  if (watchers != 0) {
    for (size_t pos = position; pos-- > 0;) {
      if (!(watchers & (1u << pos))) continue;
      ctx.enter(pos);
      std::string_view out = chain.filters[pos]->on_response_body(ctx, body, true);
      if (ctx.response.body_rewritten && out.data() != body.data()) {
        ex->local_body.assign(out);
        body = ex->local_body;
      }
    }
  }
  int status = ctx.response.status;
  http::HeaderList& headers = ctx.response.headers;
  remove_framing(headers);
  http::ClientResponse resp;
  resp.status = status;
  resp.head_request = ex->head_request;
  resp.date = http_date();
  if (status == 204 || status == 304 || status < 200) {
    body = {};
  } else if (ex->head_request) {
    headers.push_back({"Content-Length", ctx.keep(std::to_string(body.size()))});
    body = {};
  } else {
    resp.framing = http::BodyFraming::kContentLength;
    resp.content_length = body.size();
  }
  resp.close = !ex->keep_alive || !ex->request_done || draining_ || c->close_after;
  resp.keep_alive = !resp.close && ex->http10;
  c->close_after = c->close_after || resp.close;
  ex->client_head.clear();
  http::write_client_response(headers, resp, ex->client_head);
  c->out.push(ex->client_head.data(), static_cast<uint32_t>(ex->client_head.size()), kNoBuffer);
  if (!body.empty()) c->out.push(body.data(), static_cast<uint32_t>(body.size()), kNoBuffer);
  ctx.response_body_bytes = body.size();
  ++stats_.filter_responses;
  ex->response_started = ex->response_done = true;
  c->state = ClientState::kForward;
  flush(c, core::Op::kClientSend);
  update_client_timer(c);
}

// The response-head phase, in reverse chain order, over what the caller put
// in ctx.response. Returns the position of a filter that answered instead,
// or -1 when all proceeded.
int Proxy::run_response_head(Exchange* ex) {
  const filter::FilterChain& chain = *ex->chain;
  filter::Context& ctx = ex->ctx;
  ctx.now_ms = now_ms_;
  ctx.unix_ms = unix_ms_;
  ctx.response.body_rewritten = false;
  for (size_t pos = chain.filters.size(); pos-- > 0;) {
    const filter::Filter* f = chain.filters[pos];
    if (!has_phase(f, filter::kResponseHead)) continue;
    ctx.enter(pos);
    if (f->on_response_head(ctx) == filter::Outcome::kRespond) return static_cast<int>(pos);
  }
  return -1;
}

bool Proxy::run_response_filters(Exchange* ex, http::HeaderList& headers, int status) {
  filter::Context& ctx = ex->ctx;
  ctx.response.status = status;
  ctx.response.headers = headers;
  ctx.response.content_length = ex->response_framing == http::BodyFraming::kContentLength
                                    ? static_cast<int64_t>(ex->response_left)
                                : ex->response_framing == http::BodyFraming::kNone ? 0
                                                                                   : -1;
  if (int pos = run_response_head(ex); pos >= 0) {
    // The upstream's response is dropped for the filter's own. Its
    // connection can be kept only if nothing of the body is left to read.
    UpstreamConn* u = ex->upstream;
    if (ex->response_framing == http::BodyFraming::kNone && ex->request_done && u != nullptr &&
        u->in.empty() && ex->response.keep_alive() && !ex->http10 && !draining_) {
      u->ex = nullptr;
      ex->upstream = nullptr;
      release_upstream(u);
    } else if (u != nullptr) {
      close_upstream(u);
    }
    respond_from_filter(ex, static_cast<size_t>(pos));
    return false;
  }
  headers = ctx.response.headers;
  ex->body_watchers = ctx.body_watchers();
  if (ctx.response.body_rewritten && ex->response_framing != http::BodyFraming::kNone) {
    ex->body_rewritten = true;
    ex->chunked_out = !ex->http10;
    remove_framing(headers);
  }
  return true;
}

bool Proxy::filters_replace_error(Exchange* ex, int status) {
  filter::Context& ctx = ex->ctx;
  ctx.response.status = status;
  ctx.response.headers.clear();
  ctx.response.content_length = -1;
  int pos = run_response_head(ex);
  if (pos < 0) return false;
  respond_from_filter(ex, static_cast<size_t>(pos));
  return true;
}

void Proxy::filter_response_body(Exchange* ex, const http::HeadReader::PayloadPieces& pieces,
                                 bool last) {
  const filter::FilterChain& chain = *ex->chain;
  filter::Context& ctx = ex->ctx;
  std::string* block = nullptr;
  int32_t ref = kNoBuffer;
  auto run = [&](std::string_view piece, bool is_last) {
    for (size_t pos = chain.filters.size(); pos-- > 0;) {
      if (!(ex->body_watchers & (1u << pos))) continue;
      ctx.enter(pos);
      piece = chain.filters[pos]->on_response_body(ctx, piece, is_last);
    }
    if (!ex->body_rewritten || piece.empty()) return;
    if (block == nullptr) ref = new_block(&block);
    if (ex->chunked_out) {
      append_hex(*block, piece.size());
      block->append("\r\n", 2);
      block->append(piece);
      block->append("\r\n", 2);
    } else {
      block->append(piece);
    }
  };
  for (size_t i = 0; i < pieces.size(); ++i) run(pieces[i], last && i + 1 == pieces.size());
  if (last && pieces.empty()) run({}, true);
  if (!ex->body_rewritten) return;
  if (last && ex->chunked_out) {
    if (block == nullptr) ref = new_block(&block);
    block->append("0\r\n\r\n", 5);
  }
  if (block != nullptr) {
    ctx.response_body_bytes += block->size();
    ex->client->out.push(block->data(), static_cast<uint32_t>(block->size()), ref);
  }
}

bool Proxy::filter_request_body(Exchange* ex, const http::HeadReader::PayloadPieces& pieces,
                                bool last) {
  const filter::FilterChain& chain = *ex->chain;
  filter::Context& ctx = ex->ctx;
  auto run = [&](std::string_view piece, bool is_last) {
    for (size_t pos = 0; pos < chain.filters.size(); ++pos) {
      const filter::Filter* f = chain.filters[pos];
      if (!has_phase(f, filter::kRequestBody)) continue;
      ctx.enter(pos);
      if (f->on_request_body(ctx, piece, is_last) == filter::Outcome::kRespond) {
        if (ex->response_started) {
          close_client(ex->client, false);  // too late for an answer
        } else {
          ex->client->close_after = true;  // the rest of the body is unread
          respond_from_filter(ex, pos);
        }
        return false;
      }
    }
    return true;
  };
  for (size_t i = 0; i < pieces.size(); ++i)
    if (!run(pieces[i], last && i + 1 == pieces.size())) return false;
  return !(last && pieces.empty()) || run({}, true);
}

void Proxy::wake_at(filter::WorkerState& state, int64_t at_ms) {
  for (size_t i = 0; i < filter_states_.size(); ++i)
    if (filter_states_[i].get() == &state) filter_wake_[i] = std::min(filter_wake_[i], at_ms);
}

void Proxy::run_filter_timers() {
  for (size_t i = 0; i < filter_wake_.size(); ++i) {
    if (filter_states_[i] && filter_wake_[i] <= now_ms_) {
      filter_wake_[i] = filter_states_[i]->on_timer(now_ms_, *this);
    }
  }
}

void Proxy::run_log_filters(Exchange* ex) {
  const filter::FilterChain& chain = *ex->chain;
  if (!(chain.phases & filter::kLog)) return;
  filter::Context& ctx = ex->ctx;
  ctx.aborted = !ex->response_done || (ex->client != nullptr && !ex->client->out.empty());
  ctx.now_ms = now_ms_;
  ctx.unix_ms = unix_ms_;
  for (size_t pos = 0; pos < chain.filters.size(); ++pos) {
    const filter::Filter* f = chain.filters[pos];
    if (!has_phase(f, filter::kLog)) continue;
    ctx.enter(pos);
    f->on_log(ctx);
  }
}

}  // namespace ringway::proxy
