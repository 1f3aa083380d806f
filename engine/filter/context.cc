#include <algorithm>
#include <cstdio>

#include "engine/filter/filter.h"

namespace ringway::filter {

thread_local uint64_t Context::request_counter_ = 0;

namespace {

// Request headers are matched as CGI-style upstreams read them (a '_'
// spelling is the same header); response headers case-insensitively.
template <bool (*same)(std::string_view, std::string_view)>
void remove_all(http::HeaderList& headers, std::string_view name) {
  headers.erase(std::remove_if(headers.begin(), headers.end(),
                               [&](const http::Header& h) { return same(h.name, name); }),
                headers.end());
}
constexpr auto remove_request = remove_all<http::same_cgi_name>;
constexpr auto remove_response = remove_all<http::iequals>;

}  // namespace

void Context::remove_request_header(std::string_view name) { remove_request(request->headers, name); }

void Context::set_request_header(std::string_view name, std::string_view value) {
  remove_request(request->headers, name);
  request->headers.push_back({keep(name), keep(value)});
}

void Context::remove_response_header(std::string_view name) { remove_response(response.headers, name); }

void Context::set_response_header(std::string_view name, std::string_view value) {
  remove_response(response.headers, name);
  add_response_header(name, value);
}

void Context::add_response_header(std::string_view name, std::string_view value) {
  response.headers.push_back({keep(name), keep(value)});
}

void Context::set_attribute(std::string_view key, std::string_view value) {
  attributes_.emplace_back(keep(key), keep(value));
}

std::string_view Context::attribute(std::string_view key) const {
  for (auto it = attributes_.rbegin(); it != attributes_.rend(); ++it)
    if (it->first == key) return it->second;
  return {};
}

bool Context::has_attribute(std::string_view key) const {
  for (const auto& a : attributes_)
    if (a.first == key) return true;
  return false;
}

std::string_view Context::request_id() {
  if (request_id_.empty()) {
    char buffer[40];
    int n = snprintf(buffer, sizeof buffer, "%x-%llx", worker_index,
                     static_cast<unsigned long long>(++request_counter_));
    request_id_.assign(buffer, static_cast<size_t>(n));
  }
  return request_id_;
}

void Context::begin(size_t length, WorkerState* const* worker_states, Resumer* resumer, void* token,
                    uint32_t generation) {
  slots_.resize(length);
  workers_ = worker_states;
  resumer_ = resumer;
  token_ = token;
  generation_ = generation;
  position_ = 0;
}

void Context::reset() {
  request = nullptr;
  route = nullptr;
  client_ip = upstream = {};
  response.status = 0;
  response.headers.clear();
  response.content_length = -1;
  response.body_rewritten = false;
  response_body_bytes = 0;
  aborted = false;
  authenticated = false;
  local_.status = 0;
  local_.headers.clear();
  local_.body = {};
  local_.keep.reset();
  arena_.clear();
  attributes_.clear();
  request_id_.clear();
  for (auto& slot : slots_) slot.reset();
  workers_ = nullptr;
  services = nullptr;
  position_ = 0;
  body_watchers_ = 0;
  resumer_ = nullptr;
  token_ = nullptr;
}

}  // namespace ringway::filter
