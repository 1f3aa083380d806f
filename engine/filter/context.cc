#include <sys/random.h>
#include <time.h>

#include <algorithm>
#include <cstdio>

#include "engine/filter/filter.h"

namespace ringway::filter {
namespace {

// splitmix64: a bijection of the advancing state, so a thread never repeats
// an output within 2^64 calls.
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t random_seed() {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof seed, 0) == sizeof seed) return seed;
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'007ULL ^ static_cast<uint64_t>(ts.tv_nsec);
}

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
    // 32 hex digits, as nginx's $request_id: a sequence that starts at a
    // random point per thread (from the kernel) and is scrambled, so ids do
    // not repeat across workers, restarts, reloads or instances, nor count
    // requests in plain sight. Unique, not secret.
    thread_local uint64_t state = random_seed();
    const uint64_t high = splitmix64(state), low = splitmix64(state);
    char buffer[33];
    snprintf(buffer, sizeof buffer, "%016llx%016llx", static_cast<unsigned long long>(high),
             static_cast<unsigned long long>(low));
    request_id_.assign(buffer, 32);
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
