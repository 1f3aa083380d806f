#include "filters/header_rules.h"

#include "engine/http/request_head.h"

namespace ringway::filters {

bool is_gateway_managed_header(std::string_view name) {
  static constexpr std::string_view kManaged[] = {
      "content-length", "transfer-encoding", "connection", "keep-alive",       "upgrade",
      "te",             "trailer",           "host",       "proxy-connection", "expect"};
  for (std::string_view m : kManaged)
    if (http::iequals(name, m)) return true;
  return false;
}

bool is_written_by_gateway(std::string_view name) {
  for (std::string_view w : {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "via"})
    if (http::iequals(name, w)) return true;
  return false;
}

}  // namespace ringway::filters
