// Where the streaming kernel's k-steps read their x window (wgmma_stream.cu). A phase reduces over its taps
// tap-major, k_step channel rows of one tap per step, so step j reads channel rows (j % steps per tap) * k_step..
// at its tap's column, each tap shift_step columns left of the one before. None of this depends on the tile, so
// the kernel tabulates the offsets once per block instead of walking them in every tile (perf-log step 210).
#pragma once

#include <cstdint>

#include "host_device.hpp"

namespace convt1d::detail {

// Step j's offset in elements from a thread's fragment origin in the window, for a phase whose first tap reads
// column first_col (relative to that origin) and windows of x_cols columns per channel row.
CONVT1D_HOST_DEVICE inline int32_t step_offset(int32_t j, int32_t k_step, int32_t ci_pad, int32_t x_cols,
                                               int32_t first_col, int32_t shift_step) {
  const int32_t per_tap = ci_pad / k_step;
  return j % per_tap * k_step * x_cols + first_col - j / per_tap * shift_step;
}

}  // namespace convt1d::detail
