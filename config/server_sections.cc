// listen, workers, engine and limits: the sections that size and bound the
// server itself rather than describe where traffic goes.

#include <bit>

#include "config/address.h"
#include "config/parse.h"
#include "config/text_util.h"

namespace ringway::config::detail {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr milliseconds kMaxTimeout = hours(24);

uint32_t get_power_of_two(const Field& field, int64_t min, int64_t max) {
  int64_t value = get_int(field, min, max);
  if (!std::has_single_bit(static_cast<uint64_t>(value)))
    field.fail("must be a power of two between " + std::to_string(min) + " and " +
               std::to_string(max) + ", got " + std::to_string(value));
  return static_cast<uint32_t>(value);
}

// An optional section written with no body ("limits:" and every entry
// commented out) means "all defaults", not an error.
bool is_empty_section(const Field& field) { return field.value.IsNull(); }

}  // namespace

void parse_listeners(const Field& field, std::vector<Listener>& out) {
  std::vector<YAML::Mark> marks;  // of each listener's address, for duplicate reports
  for (const Field& item : list_elements(field, false, "a list of listeners")) {
    MapReader map(item, "in " + item.path, {"address", "backlog"});
    Listener listener;
    const Field& address = map.require("address");
    std::string error;
    if (!parse_listen_address(get_nonempty_string(address), listener.address, error))
      address.fail(error);
    // Port 0 asks the kernel for a fresh port each time, so two of them never clash.
    if (port_of(listener.address) != 0) {
      for (size_t i = 0; i < out.size(); ++i)
        if (same_address(out[i].address, listener.address))
          address.fail("duplicate listener address " + quote(listener.address.text) +
                       " (first at line " + std::to_string(line_of(marks[i])) + ")");
    }
    if (const Field* backlog = map.find("backlog"))
      listener.backlog = static_cast<int>(get_int(*backlog, 1, 65535));
    out.push_back(std::move(listener));
    marks.push_back(address.mark());
  }
}

void parse_workers(const Field& field, EngineTuning& engine) {
  constexpr const char* kExpected = "an integer between 1 and 1024 or \"auto\"";
  if (field.value.IsScalar() && field.value.Scalar() == "auto") {
    engine.workers = 0;
    return;
  }
  // get_int would describe the type without the "auto" alternative.
  const bool digits = field.value.IsScalar() && !field.value.Scalar().empty() &&
                      field.value.Scalar().find_first_not_of("+-0123456789") == std::string::npos;
  if (!is_integer_scalar(field.value) || !digits) field.fail_type(kExpected);
  engine.workers = static_cast<uint32_t>(get_int(field, 1, 1024));
}

void parse_engine(const Field& field, EngineTuning& engine) {
  if (is_empty_section(field)) return;
  MapReader map(field, "in engine",
                {"ring_entries", "cq_entries", "buffer_count", "buffer_size", "drain_timeout",
                 "registered_files", "batch_completions", "batch_wait", "batch_min_rps"});
  if (const Field* f = map.find("ring_entries")) engine.ring_entries = get_power_of_two(*f, 64, 32768);
  if (const Field* f = map.find("cq_entries")) {
    engine.cq_entries = get_power_of_two(*f, 64, 65536);
    if (engine.cq_entries < engine.ring_entries)
      f->fail("must be at least ring_entries (" + std::to_string(engine.ring_entries) + "), got " +
              std::to_string(engine.cq_entries));
  } else if (engine.cq_entries < 2 * engine.ring_entries) {
    // The default keeps the completion queue at least twice the submission
    // queue, which is what the kernel picks when not asked, and never smaller.
    engine.cq_entries = 2 * engine.ring_entries;
  }
  if (const Field* f = map.find("buffer_count")) engine.buffer_count = get_power_of_two(*f, 16, 32768);
  if (const Field* f = map.find("buffer_size"))
    engine.buffer_size = static_cast<uint32_t>(get_size(*f, 1024, 1024 * 1024));
  if (const Field* f = map.find("drain_timeout"))
    engine.drain_timeout = get_duration(*f, milliseconds(0), kMaxTimeout);
  if (const Field* f = map.find("registered_files")) engine.registered_files = get_bool(*f);
  if (const Field* f = map.find("batch_completions"))
    engine.batch_completions = static_cast<uint32_t>(get_int(*f, 1, 4096));
  if (const Field* f = map.find("batch_wait"))
    engine.batch_wait = get_short_duration(*f, microseconds(0), microseconds(10'000));
  if (const Field* f = map.find("batch_min_rps"))
    engine.batch_min_rps = static_cast<uint32_t>(get_int(*f, 0, 100'000'000));
}

void parse_limits(const Field& field, Limits& limits) {
  if (is_empty_section(field)) return;
  MapReader map(field, "in limits",
                {"max_request_line", "max_header_bytes", "max_body_bytes", "client_header_timeout",
                 "client_body_timeout", "idle_timeout", "send_timeout", "tunnel_idle_timeout",
                 "max_connections_per_worker", "stalled_peer_memory"});
  constexpr uint64_t kMiB = 1024 * 1024;
  if (const Field* f = map.find("max_request_line"))
    limits.max_request_line = static_cast<uint32_t>(get_size(*f, 16, kMiB));
  if (const Field* f = map.find("max_header_bytes"))
    limits.max_header_bytes = static_cast<uint32_t>(get_size(*f, 16, 16 * kMiB));
  if (const Field* f = map.find("max_body_bytes"))
    limits.max_body_bytes = get_size(*f, 0, UINT64_MAX);
  const milliseconds min_timeout(1);
  if (const Field* f = map.find("client_header_timeout"))
    limits.client_header_timeout = get_duration(*f, min_timeout, kMaxTimeout);
  if (const Field* f = map.find("client_body_timeout"))
    limits.client_body_timeout = get_duration(*f, min_timeout, kMaxTimeout);
  if (const Field* f = map.find("idle_timeout"))
    limits.idle_timeout = get_duration(*f, min_timeout, kMaxTimeout);
  if (const Field* f = map.find("send_timeout"))
    limits.send_timeout = get_duration(*f, min_timeout, kMaxTimeout);
  if (const Field* f = map.find("tunnel_idle_timeout"))
    limits.tunnel_idle_timeout = get_duration(*f, min_timeout, kMaxTimeout);
  if (const Field* f = map.find("max_connections_per_worker"))
    limits.max_connections_per_worker = static_cast<uint32_t>(get_int(*f, 1, 1 << 20));
  if (const Field* f = map.find("stalled_peer_memory"))
    limits.stalled_peer_memory = get_size(*f, 0, 1024 * 1024 * kMiB);
}

}  // namespace ringway::config::detail
