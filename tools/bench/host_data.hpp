// Random benchmark inputs made on the host: each element is drawn from a counter-based hash (so any
// size fills in parallel and the same seed always gives the same data), rounded to the dtype, and
// kept twice: as the typed bytes that are uploaded and as doubles for the fp64 reference, so the
// reference sees exactly the values the kernels read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "convt1d/convt1d.h"

namespace convt1d::bench {

struct HostTensor {
  int32_t dtype = CONVT1D_FLOAT32;
  int64_t count = 0;
  std::vector<unsigned char> bytes;  // count elements of dtype
  std::vector<double> values;        // the same elements, exactly, as double
  const void* data() const { return bytes.empty() ? nullptr : bytes.data(); }
  std::size_t size_bytes() const { return bytes.size(); }
};

// Uniform in [-scale, scale), never all zeros.
HostTensor random_tensor(int64_t count, int32_t dtype, uint64_t seed, double scale);

// x, weight, bias of a problem (bias empty when the problem has none). Weights are scaled like
// PyTorch's default init (1/sqrt(fan_in)) so outputs stay O(1) in fp16 for any reduction length.
struct ProblemData {
  HostTensor x, w, bias;
};
ProblemData random_problem_data(const convt1d_problem& p, uint64_t seed);

// A seed that differs per case id and run seed.
uint64_t case_seed(uint64_t run_seed, const std::string& case_id);

}  // namespace convt1d::bench
