#include "engine/http/websocket.h"

#include <gtest/gtest.h>

namespace ringway::http {
namespace {

TEST(WebSocket, AcceptOfTheRfcExample) {
  // RFC 6455 1.3.
  EXPECT_EQ(websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_NE(websocket_accept("dGhlIHNhbXBsZSBub25jZR=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocket, UpgradeListsNamingIt) {
  EXPECT_TRUE(names_websocket("websocket"));
  EXPECT_TRUE(names_websocket("WebSocket"));
  EXPECT_TRUE(names_websocket("h2c, websocket"));
  EXPECT_TRUE(names_websocket(" , websocket ,"));
  EXPECT_FALSE(names_websocket("h2c"));
  EXPECT_FALSE(names_websocket("websockets"));
  EXPECT_FALSE(names_websocket("websocket/13"));  // a version is another protocol token
  EXPECT_FALSE(names_websocket(""));
}

}  // namespace
}  // namespace ringway::http
