// Benchmark modes: the four precisions the benchmark runs, each a (dtype, math) pair of the problem, with
// the accuracy bar a result must meet against the fp64 reference.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "convt1d/convt1d.h"

namespace convt1d::bench {

enum class Mode { TF32, IEEE, FP16, BF16 };

inline const std::vector<Mode>& all_modes() {
  static const std::vector<Mode> modes = {Mode::TF32, Mode::IEEE, Mode::FP16, Mode::BF16};
  return modes;
}

const char* mode_name(Mode mode);   // "fp32-tf32", "fp32-ieee", "fp16", "bf16" (reports, JSON)
const char* mode_short(Mode mode);  // "tf32", "ieee", "fp16", "bf16" (what --mode takes)
int32_t mode_dtype(Mode mode);
std::size_t mode_element_bytes(Mode mode);

// Relative L2 error allowed against the fp64 reference. Looser than the unit tests' bars because the
// benchmark sums up to C_in*K products per output at full size.
double mode_tolerance(Mode mode);

// The problem with dtype and math set for the mode.
convt1d_problem with_mode(convt1d_problem problem, Mode mode);

// Parses "tf32|ieee|fp16|bf16|all" or a comma list of those (also the long names); false on an unknown
// name, with *error saying which.
bool parse_modes(const std::string& text, std::vector<Mode>* modes, std::string* error);

}  // namespace convt1d::bench
