// The engine's own requests (filter::WorkerServices::fetch): a filter's
// worker state asks for GET <path> from a configured upstream, e.g. jwt's key
// set from jwks_url. One connection per fetch, on this worker's ring like
// every other socket, so a slow or dead upstream never blocks the worker;
// the answer comes back as a callback on the same thread.

#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>

#include "engine/proxy/proxy.h"

namespace ringway::proxy {

bool Proxy::fetch(const FetchRequest& request, FetchCallback done) {
  auto it = std::find_if(pools_.begin(), pools_.end(),
                         [&](const auto& p) { return p->config->name == request.upstream; });
  if (it == pools_.end()) return false;
  UpstreamPool& pool = **it;
  const config::SocketAddress& addr = pool.config->endpoints[pool.balancer.pick()].address;

  fetches_.push_back(std::make_unique<FetchConn>());
  FetchConn* f = fetches_.back().get();
  f->timer.owner = f;
  f->max_body = request.max_body;
  f->done = std::move(done);
  f->response.reset(head_limits_);
  // As for forwarded requests: the upstream's configured Host, else the one
  // the request names, else the upstream's name.
  std::string_view host = pool.config->name;
  for (const http::Header& h : request.headers)
    if (http::iequals(h.name, "host")) host = h.value;
  if (!pool.config->host_header.empty()) host = pool.config->host_header;
  f->request.append("GET ").append(request.path).append(" HTTP/1.1\r\nHost: ").append(host);
  f->request.append("\r\nUser-Agent: ringway\r\nConnection: close\r\n");
  for (const http::Header& h : request.headers) {
    if (http::iequals(h.name, "host") || http::is_hop_by_hop(h.name)) continue;
    f->request.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  f->request.append("\r\n");

  io_uring_sqe* sqe;
  f->fd = socket(addr.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (f->fd < 0) {
    // Reported from the completion like any failure: never from in here.
    sqe = ring_.sqe();
    io_uring_prep_nop(sqe);
  } else {
    int one = 1;
    setsockopt(f->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    register_file(f);  // its files-update SQE must come before the connect
    sqe = ring_.sqe();
    io_uring_prep_connect(sqe, f->fd, reinterpret_cast<const sockaddr*>(&addr.storage), addr.length);
    target(sqe, f);
  }
  io_uring_sqe_set_data64(sqe, core::tag(f, core::Op::kFetchConnect));
  ++f->pending;
  fetch_timer_.arm(f->timer, now_ms_);
  return true;
}

void Proxy::on_fetch_connect(FetchConn* f, int res) {
  --f->pending;
  if (f->closed) return;
  if (res < 0 || f->fd < 0) {
    finish_fetch(f, 0);
    return;
  }
  arm_recv(f, core::Op::kFetchRecv);
  f->out.push(f->request.data(), static_cast<uint32_t>(f->request.size()), kNoBuffer);
  flush(f, core::Op::kFetchSend);
}

void Proxy::on_fetch_send(FetchConn* f, int res) {
  res = sent(f, res);
  if (f->closed) return;
  if (res < 0) {
    finish_fetch(f, 0);
    return;
  }
  flush(f, core::Op::kFetchSend);
}

void Proxy::on_fetch_recv(FetchConn* f, const io_uring_cqe* cqe) {
  take_buffer(f, cqe, upstream_buffers_);
  if (f->closed) return;
  int res = cqe->res;
  if (res > 0) {
    process_fetch(f);
  } else if (res == -ENOBUFS) {
    starve(f, core::Op::kFetchRecv);
  } else if (res != -ECANCELED) {
    f->peer_eof = true;
    // Only a clean close ends a close-delimited body; a reset cuts it.
    bool complete = res == 0 && f->head_done && f->framing == http::BodyFraming::kUntilClose;
    finish_fetch(f, complete ? f->response.status_code() : 0);
    return;
  }
  if (!f->closed && !f->recv_armed && !f->recv_paused) arm_recv(f, core::Op::kFetchRecv);
}

void Proxy::process_fetch(FetchConn* f) {
  while (!f->closed && !f->in.empty()) {
    Chunk& chunk = f->in.front();
    if (!f->head_done) {
      size_t used = 0;
      http::HeadStatus status = f->response.feed(chunk.data, chunk.len, &used);
      if (status == http::HeadStatus::kError) return finish_fetch(f, 0);
      // The callback gets the head's fields: keep them past this buffer.
      if (status == http::HeadStatus::kComplete) f->response.own_head();
      drop(f->in.consume(static_cast<uint32_t>(used)));
      if (status == http::HeadStatus::kIncomplete) continue;
      if (f->response.status_code() < 200) {  // interim (100, 103)
        f->response.reset(head_limits_);
        continue;
      }
      f->head_done = true;
      f->framing = f->response.response_framing(false);
      f->left = f->response.content_length();
      if (f->framing == http::BodyFraming::kNone) return finish_fetch(f, f->response.status_code());
      if (f->framing == http::BodyFraming::kContentLength && f->left > f->max_body)
        return finish_fetch(f, 0);
      continue;
    }
    uint32_t n = chunk.len;
    bool done = false;
    switch (f->framing) {
      case http::BodyFraming::kContentLength:
        n = static_cast<uint32_t>(std::min<uint64_t>(n, f->left));
        f->body.append(chunk.data, n);
        f->left -= n;
        done = f->left == 0;
        break;
      case http::BodyFraming::kChunked: {
        pieces_.clear();
        long r = f->response.feed_chunked(chunk.data, chunk.len, &pieces_);
        if (r < 0) return finish_fetch(f, 0);
        n = static_cast<uint32_t>(r);
        for (std::string_view p : pieces_) f->body.append(p);
        done = f->response.message_complete();
        break;
      }
      default:
        f->body.append(chunk.data, n);
    }
    drop(f->in.consume(n));
    if (f->body.size() > f->max_body) return finish_fetch(f, 0);
    if (done) return finish_fetch(f, f->response.status_code());
  }
}

void Proxy::finish_fetch(FetchConn* f, int status) {
  if (f->closed) return;
  FetchCallback done = std::move(f->done);
  std::string body = std::move(f->body);
  // Views into f's head reader: f is retired below but freed only after its
  // last completion, so they stay valid for `done`.
  http::HeaderList headers;
  if (status != 0) f->response.fill(headers);
  if (f->fd >= 0) {
    retire(f, SocketKind::kFetch);
  } else {
    f->closed = true;  // never had a socket: nothing to close
    f->timer.disarm();
    free_fetch(f);     // status is 0: no views into it
  }
  if (done) done(FetchResult{status, &headers, body});
}

void Proxy::free_fetch(FetchConn* f) {
  std::erase_if(fetches_, [f](const auto& p) { return p.get() == f; });
}

}  // namespace ringway::proxy
