#include "engine/http/websocket.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "engine/http/field_value.h"
#include "engine/http/request_head.h"

namespace ringway::http {

std::string websocket_accept(std::string_view key) {
  static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string input;
  input.reserve(key.size() + kGuid.size());
  input.append(key).append(kGuid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  unsigned char text[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(text, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(n));
}

bool names_websocket(std::string_view upgrade) {
  std::string_view member;
  while (next_list_element(upgrade, member))
    if (iequals(member, "websocket")) return true;
  return false;
}

}  // namespace ringway::http
