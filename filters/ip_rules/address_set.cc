#include "filters/ip_rules/address_set.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "config/text_util.h"

namespace ringway::filters::ip_rules {
namespace {

constexpr uint64_t kAllOnes = ~uint64_t{0};
constexpr uint64_t kV4MappedLo = uint64_t{0xffff} << 32;

// The network mask of a /prefix (0..128).
Ip mask_of(int prefix) {
  Ip m;
  m.hi = prefix <= 0 ? 0 : prefix >= 64 ? kAllOnes : kAllOnes << (64 - prefix);
  m.lo = prefix <= 64 ? 0 : prefix >= 128 ? kAllOnes : kAllOnes << (128 - prefix);
  return m;
}

Ip from_bytes(const unsigned char* b) {
  Ip ip;
  for (int i = 0; i < 8; ++i) ip.hi = (ip.hi << 8) | b[i];
  for (int i = 8; i < 16; ++i) ip.lo = (ip.lo << 8) | b[i];
  return ip;
}

void to_bytes(const Ip& ip, unsigned char* b) {
  for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(ip.hi >> (56 - 8 * i));
  for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<unsigned char>(ip.lo >> (56 - 8 * i));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool is_v4_mapped(const Ip& ip) { return ip.hi == 0 && (ip.lo >> 32) == 0xffff; }

bool parse_ip(std::string_view text, Ip& out) {
  // inet_pton needs a C string; the longest literal it accepts is 45 chars.
  char buffer[48];
  if (text.empty() || text.size() >= sizeof buffer) return false;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  if (std::memchr(buffer, '\0', text.size()) != nullptr) return false;
  if (text.find(':') == std::string_view::npos) {
    unsigned char b[4];
    if (inet_pton(AF_INET, buffer, b) != 1) return false;
    out.hi = 0;
    out.lo = kV4MappedLo | (uint64_t{b[0]} << 24) | (uint64_t{b[1]} << 16) | (uint64_t{b[2]} << 8) |
             uint64_t{b[3]};
    return true;
  }
  unsigned char b[16];
  if (inet_pton(AF_INET6, buffer, b) != 1) return false;
  out = from_bytes(b);
  return true;
}

std::string format_ip(const Ip& ip, bool mapped_as_v6) {
  char buffer[INET6_ADDRSTRLEN];
  if (is_v4_mapped(ip) && !mapped_as_v6) {
    unsigned char b[4] = {static_cast<unsigned char>(ip.lo >> 24), static_cast<unsigned char>(ip.lo >> 16),
                          static_cast<unsigned char>(ip.lo >> 8), static_cast<unsigned char>(ip.lo)};
    inet_ntop(AF_INET, b, buffer, sizeof buffer);
    return buffer;
  }
  unsigned char b[16];
  to_bytes(ip, b);
  inet_ntop(AF_INET6, b, buffer, sizeof buffer);
  return buffer;
}

bool parse_cidr(std::string_view text, Cidr& out, std::string& error) {
  if (text == "all") {
    out = Cidr{Ip{}, 0};
    return true;
  }
  size_t slash = text.find('/');
  std::string_view address = text.substr(0, slash);
  bool v6 = address.find(':') != std::string_view::npos;
  Ip ip;
  if (!parse_ip(address, ip)) {
    error = "invalid " + std::string(v6 ? "IPv6" : "IPv4") + " address " + config::detail::quote(address) +
            " (expected an address such as 192.0.2.1 or 2001:db8::1, optionally with /prefix)";
    return false;
  }
  const int width = v6 ? 128 : 32;
  int prefix = width;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    bool ok = !digits.empty() && digits.size() <= 3 && (digits.size() == 1 || digits[0] != '0');
    prefix = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') ok = false;
      else prefix = prefix * 10 + (c - '0');
    }
    if (!ok) {
      error = "invalid prefix length " + config::detail::quote(digits) + " in " + config::detail::quote(text);
      return false;
    }
    if (prefix > width) {
      error = "prefix length /" + std::to_string(prefix) + " is too long for an " +
              (v6 ? "IPv6" : "IPv4") + " address (at most /" + std::to_string(width) + ")";
      return false;
    }
  }
  const int prefix128 = v6 ? prefix : 96 + prefix;
  Ip mask = mask_of(prefix128);
  Ip network{ip.hi & mask.hi, ip.lo & mask.lo};
  if (network != ip) {
    error = config::detail::quote(text) + " has host bits set below the /" + std::to_string(prefix) +
            " prefix; write the network, " + config::detail::quote(format_ip(network, v6) + "/" + std::to_string(prefix)) +
            ", or a longer prefix";
    return false;
  }
  out = Cidr{network, prefix128};
  return true;
}

AddressSet::AddressSet(const std::vector<Cidr>& blocks) {
  std::vector<Range> ranges;
  ranges.reserve(blocks.size());
  for (const Cidr& c : blocks) {
    Ip mask = mask_of(c.prefix);
    ranges.push_back({c.network, Ip{c.network.hi | ~mask.hi, c.network.lo | ~mask.lo}});
  }
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.first < b.first; });
  for (const Range& r : ranges) {
    if (!ranges_.empty()) {
      Range& back = ranges_.back();
      // Overlapping, or adjacent (back.last + 1 == r.first): one range.
      Ip next{back.last.hi + (back.last.lo == kAllOnes ? 1 : 0), back.last.lo + 1};
      bool at_end = back.last.hi == kAllOnes && back.last.lo == kAllOnes;
      if (at_end || r.first <= back.last || r.first == next) {
        if (back.last < r.last) back.last = r.last;
        continue;
      }
    }
    ranges_.push_back(r);
  }
}

bool AddressSet::contains(const Ip& ip) const {
  // The last range starting at or before ip.
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), ip,
                             [](const Ip& value, const Range& r) { return value < r.first; });
  if (it == ranges_.begin()) return false;
  --it;
  return ip <= it->last;
}

bool AddressSet::covers(const Cidr& cidr) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), cidr.network,
                             [](const Ip& value, const Range& r) { return value < r.first; });
  if (it == ranges_.begin()) return false;
  --it;
  // Ranges are merged, so a covered block lies inside a single one.
  Ip mask = mask_of(cidr.prefix);
  Ip last{cidr.network.hi | ~mask.hi, cidr.network.lo | ~mask.lo};
  return last <= it->last;
}

Ip resolve_client(const Ip& peer, const http::RequestHead& head, std::string_view header,
                  const AddressSet& trusted) {
  if (!trusted.contains(peer)) return peer;
  Ip client = peer;
  // Fields from the last to the first, entries in each from right to left.
  for (size_t i = head.headers.size(); i-- > 0;) {
    const http::Header& h = head.headers[i];
    if (!http::iequals(h.name, header)) continue;
    std::string_view list = trim(h.value);
    if (list.empty()) continue;  // an empty field adds no hop
    while (true) {
      size_t comma = list.rfind(',');
      std::string_view entry = trim(comma == std::string_view::npos ? list : list.substr(comma + 1));
      Ip ip;
      if (!parse_ip(entry, ip)) return client;  // malformed: the last good address
      client = ip;
      if (!trusted.contains(ip)) return client;
      if (comma == std::string_view::npos) break;
      list = list.substr(0, comma);
    }
  }
  return client;  // every hop trusted: the leftmost
}

}  // namespace ringway::filters::ip_rules
