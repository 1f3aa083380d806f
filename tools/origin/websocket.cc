#include "tools/origin/websocket.h"

#include <cstdint>

#include "engine/http/websocket.h"

namespace ringway::origin {
namespace {

enum Opcode : uint8_t { kClose = 0x8, kPing = 0x9, kPong = 0xA };

void append_frame(ByteBuffer& out, uint8_t first, std::string_view payload, bool unmask,
                  const uint8_t* mask) {
  out.append(static_cast<char>(first));
  const uint64_t n = payload.size();
  if (n < 126) {
    out.append(static_cast<char>(n));
  } else if (n <= 0xffff) {
    out.append(static_cast<char>(126));
    out.append(static_cast<char>(n >> 8));
    out.append(static_cast<char>(n & 0xff));
  } else {
    out.append(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8) out.append(static_cast<char>((n >> shift) & 0xff));
  }
  char* p = out.prepare(n);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<char>(payload[i] ^ (unmask ? mask[i % 4] : 0));
  out.commit(n);
}

void append_close(ByteBuffer& out, uint16_t code) {
  const char payload[2] = {static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
  append_frame(out, 0x80 | kClose, std::string_view(payload, 2), false, nullptr);
}

}  // namespace

void write_websocket_accept(ByteBuffer& out, std::string_view key, std::string_view date) {
  out.append("HTTP/1.1 101 Switching Protocols\r\nServer: ringway-origin\r\nDate: ");
  out.append(date);
  out.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ");
  out.append(http::websocket_accept(key));
  out.append("\r\n\r\n");
}

FrameEcho echo_frames(std::string_view in, size_t max_payload, ByteBuffer& out) {
  FrameEcho r;
  const auto* b = reinterpret_cast<const uint8_t*>(in.data());
  while (!r.close) {
    const size_t left = in.size() - r.consumed;
    const uint8_t* f = b + r.consumed;
    if (left < 2) break;
    size_t head = 2;
    uint64_t length = f[1] & 0x7f;
    if (length == 126) head = 4;
    if (length == 127) head = 10;
    if (left < head) break;
    if (length == 126) length = (uint64_t{f[2]} << 8) | f[3];
    if (length == 127) {
      length = 0;
      for (int i = 2; i < 10; ++i) length = (length << 8) | f[i];
    }
    if (!(f[1] & 0x80) || length > max_payload) {
      append_close(out, !(f[1] & 0x80) ? 1002 : 1009);
      r.close = true;
      r.consumed = in.size();
      break;
    }
    head += 4;  // the mask
    if (left < head + length) break;
    const uint8_t* mask = f + head - 4;
    std::string_view payload(reinterpret_cast<const char*>(f + head), length);
    const uint8_t opcode = f[0] & 0x0f;
    if (opcode == kPing)
      append_frame(out, 0x80 | kPong, payload, true, mask);
    else if (opcode != kPong)
      append_frame(out, f[0], payload, true, mask);
    r.close = opcode == kClose;
    r.consumed += head + length;
  }
  return r;
}

}  // namespace ringway::origin
