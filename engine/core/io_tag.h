#pragma once
// The user_data of every SQE: the owning object's address with the operation
// kind in its low bits (objects are 16-byte aligned). One load and one switch
// route a completion; no lookup table, no allocation per operation.

#include <cstdint>

namespace ringway::core {

enum class Op : uint8_t {
  kIgnore = 0,  // cancellations and fire-and-forget operations
  kAccept,
  kClientRecv,
  kClientSend,
  kUpstreamRecv,
  kUpstreamSend,
  kUpstreamConnect,
  kWake,
  kFetchConnect,  // the engine's own requests (filter::WorkerServices::fetch)
  kFetchRecv,
  kFetchSend,
};

constexpr uint64_t kOpMask = 15;

inline uint64_t tag(const void* object, Op op) {
  return reinterpret_cast<uintptr_t>(object) | static_cast<uint64_t>(op);
}
inline Op op_of(uint64_t user_data) { return static_cast<Op>(user_data & kOpMask); }
template <typename T>
T* object_of(uint64_t user_data) {
  return reinterpret_cast<T*>(user_data & ~kOpMask);
}

}  // namespace ringway::core
