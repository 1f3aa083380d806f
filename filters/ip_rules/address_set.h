#pragma once
// IP addresses, CIDR blocks and sets of them for the ip_rules filter
// (docs/filters/ip_rules.md).
//
// Every address is held as 128 bits: IPv4 a.b.c.d as the IPv4-mapped IPv6
// address ::ffff:a.b.c.d, and an IPv4 prefix /n as /(96+n). So a client that
// reaches a dual-stack listener as ::ffff:1.2.3.4 matches the IPv4 rule
// 1.2.3.0/24, and one set serves both families.
//
// An AddressSet is its CIDR blocks turned into sorted, merged, disjoint
// ranges [first, last]; a lookup is one binary search over them, whatever
// the number or the mix of prefix lengths.

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/http/request_head.h"

namespace ringway::filters::ip_rules {

struct Ip {
  uint64_t hi = 0;  // bits 127..64
  uint64_t lo = 0;  // bits 63..0
  auto operator<=>(const Ip&) const = default;
};

// ::ffff:0:0/96
bool is_v4_mapped(const Ip& ip);

// An IPv4 ("1.2.3.4") or IPv6 ("2001:db8::1", "::ffff:1.2.3.4") literal, as
// inet_pton reads them: no brackets, ports, zone ids or legacy IPv4 forms.
bool parse_ip(std::string_view text, Ip& out);

// Canonical text: dotted IPv4 for IPv4 and IPv4-mapped addresses (unless
// `mapped_as_v6`), else the RFC 5952 form inet_ntop writes.
std::string format_ip(const Ip& ip, bool mapped_as_v6 = false);

struct Cidr {
  Ip network;
  int prefix = 128;  // in the 128-bit space (IPv4 /n is 96+n)
};

// "1.2.3.0/24", "2001:db8::/32", a bare address (/32 or /128), or "all"
// (::/0, every address of both families). A prefix above the family's
// width, a malformed prefix, or host bits set below the prefix
// ("10.1.2.3/8") are errors; for the last one the message names the
// network that was probably meant.
bool parse_cidr(std::string_view text, Cidr& out, std::string& error);

class AddressSet {
 public:
  AddressSet() = default;
  explicit AddressSet(const std::vector<Cidr>& blocks);
  bool contains(const Ip& ip) const;
  // Every address of the block is in the set.
  bool covers(const Cidr& cidr) const;
  bool empty() const { return ranges_.empty(); }
  size_t range_count() const { return ranges_.size(); }

 private:
  struct Range {
    Ip first, last;
  };
  std::vector<Range> ranges_;  // sorted by first, disjoint, not adjacent
};

// The client address behind `peer` (the nginx real_ip_recursive algorithm).
// When `peer` is in `trusted`, the entries of the `header` fields
// (X-Forwarded-For: comma-separated addresses, several fields read as one
// list in order) are walked from the right: each trusted address is skipped,
// the first untrusted one is the client. A malformed or empty entry stops
// the walk and the last good address is the client; if every entry is
// trusted, the leftmost one is. When `peer` is not trusted the header is
// ignored: anyone can write it.
Ip resolve_client(const Ip& peer, const http::RequestHead& head, std::string_view header,
                  const AddressSet& trusted);

}  // namespace ringway::filters::ip_rules
