#include "whole_number.hpp"

#include <limits>

namespace convt1d::detail {

bool parse_whole_number(std::string_view text, int64_t min_value, int64_t max_value, int64_t* out) {
  const bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  if (text.empty()) return false;
  // Accumulated as a magnitude below 2^63 + 1, so that INT64_MIN is readable and nothing wraps.
  const uint64_t limit = negative ? uint64_t{1} << 63 : static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  uint64_t magnitude = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<uint64_t>(c - '0');
    if (magnitude > (limit - digit) / 10) return false;
    magnitude = magnitude * 10 + digit;
  }
  const int64_t value =
      negative ? (magnitude == (uint64_t{1} << 63) ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(magnitude))
               : static_cast<int64_t>(magnitude);
  if (value < min_value || value > max_value) return false;
  *out = value;
  return true;
}

}  // namespace convt1d::detail
