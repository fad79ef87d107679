// Whole numbers read from text: environment variables, tune files, suite files and command-line options.
//
// One strict rule for all of them, so that a typo fails with a message instead of being read as something
// else: an optional '-' followed by decimal digits, and nothing more (no spaces, no '+', no other base, no
// trailing text), within [min_value, max_value]. strtol-style parsing accepts " 5", "+5" and "5x" (the
// last through atoi) and turns an overflowing value into its type's limit.
#pragma once

#include <cstdint>
#include <string_view>

namespace convt1d::detail {

// The value of `text` in *out, or false (and *out untouched) when `text` is not a whole number by the rule
// above or lies outside [min_value, max_value].
bool parse_whole_number(std::string_view text, int64_t min_value, int64_t max_value, int64_t* out);

}  // namespace convt1d::detail
