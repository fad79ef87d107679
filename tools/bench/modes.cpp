#include "bench/modes.hpp"

#include <sstream>

namespace convt1d::bench {

const char* mode_name(Mode mode) {
  switch (mode) {
    case Mode::TF32: return "fp32-tf32";
    case Mode::IEEE: return "fp32-ieee";
    case Mode::FP16: return "fp16";
    case Mode::BF16: return "bf16";
  }
  return "?";
}

const char* mode_short(Mode mode) {
  switch (mode) {
    case Mode::TF32: return "tf32";
    case Mode::IEEE: return "ieee";
    case Mode::FP16: return "fp16";
    case Mode::BF16: return "bf16";
  }
  return "?";
}

int32_t mode_dtype(Mode mode) {
  switch (mode) {
    case Mode::FP16: return CONVT1D_FLOAT16;
    case Mode::BF16: return CONVT1D_BFLOAT16;
    default: return CONVT1D_FLOAT32;
  }
}

std::size_t mode_element_bytes(Mode mode) { return mode_dtype(mode) == CONVT1D_FLOAT32 ? 4 : 2; }

double mode_tolerance(Mode mode) {
  switch (mode) {
    case Mode::IEEE: return 1e-5;
    case Mode::TF32: return 2e-3;
    case Mode::FP16: return 3e-3;
    case Mode::BF16: return 2e-2;
  }
  return 0.0;
}

convt1d_problem with_mode(convt1d_problem problem, Mode mode) {
  problem.dtype = mode_dtype(mode);
  problem.math = mode == Mode::IEEE ? CONVT1D_MATH_IEEE : CONVT1D_MATH_TF32;
  return problem;
}

bool parse_modes(const std::string& text, std::vector<Mode>* modes, std::string* error) {
  modes->clear();
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item == "all") {
      *modes = all_modes();
      continue;
    }
    bool found = false;
    for (Mode m : all_modes()) {
      if (item == mode_short(m) || item == mode_name(m)) {
        bool seen = false;
        for (Mode have : *modes) seen = seen || have == m;
        if (!seen) modes->push_back(m);
        found = true;
      }
    }
    if (!found) {
      *error = "unknown mode '" + item + "' (expected tf32, ieee, fp16, bf16 or all)";
      return false;
    }
  }
  if (modes->empty()) {
    *error = "no mode given (expected tf32, ieee, fp16, bf16 or all)";
    return false;
  }
  return true;
}

}  // namespace convt1d::bench
