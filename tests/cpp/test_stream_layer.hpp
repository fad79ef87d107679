// A layer for the CPU tests of the streaming kernel's x windows (test_row_boxes.cpp, test_row_residues.cpp), and
// its plan with the streaming kernel forced, as the H100-like planner sees it.
#pragma once

#include <cstdint>

#include "convt1d/convt1d.h"
#include "plan.hpp"
#include "test_hopper.hpp"

namespace t1d {

struct StreamLayer {
  int64_t batch, c_in, c_out, length, k, stride, padding, dilation;
};

inline convt1d::detail::Plan forced_stream_plan(const StreamLayer& l, int32_t dtype) {
  convt1d_problem p = convt1d_problem_init(l.batch, l.c_in, l.c_out, l.length, l.k);
  p.stride = l.stride;
  p.padding = l.padding;
  p.dilation = l.dilation;
  p.dtype = dtype;
  p.device = CONVT1D_DEVICE_CUDA;
  p.algorithm = CONVT1D_ALGO_WGMMA_STREAM;
  return convt1d::detail::make_plan(p, hopper_info());
}

}  // namespace t1d
