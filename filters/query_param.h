#pragma once
// Query-string helpers for filters (api_key, jwt): find one parameter's value,
// drop a parameter. A query is "name=value" pairs joined by '&'; names and
// values are percent-decoded (%XX) before use; '+' is taken literally, not
// as a space, so that base64 keys sent unencoded still match. A name also
// matches the spellings PHP reads as the same ("api.key", "api+key" and
// "api[key" are its api_key).

#include <string>
#include <string_view>

namespace ringway::filters {

// Decodes %XX escapes into `out`; false on a malformed escape ("%4", "%zz").
bool percent_decode(std::string_view in, std::string& out);

struct ParamLookup {
  size_t count = 0;        // pairs whose decoded name is `name`
  std::string_view raw;    // the first one's value, still encoded
};

ParamLookup find_param(std::string_view query, std::string_view name);

// `query` without the pairs whose decoded name is `name`; the other pairs are
// kept byte for byte and in order.
std::string remove_param(std::string_view query, std::string_view name);

}  // namespace ringway::filters
