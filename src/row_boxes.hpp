// Where a streaming tile's x rows land when each arrives as its own bulk copy (StreamTiling::row_boxes: x
// rows that are not 16-byte multiples): plain C++ that the kernel (src/cuda/wgmma_stream.cu) and the CPU
// tests share. Indices are elements of x read flat (batch row, channel, position), 32-bit as the plan keeps
// them.
#pragma once

#include <cstdint>

#include "host_device.hpp"

namespace convt1d::detail {

// How far left of flat x element f the copy holding it starts: bulk copies start on 16 bytes, so f modulo
// the elements of 16 bytes (for f < 0 too, a window left of x's first row). A channel row's elements sit
// that far right in the stage, and the threads reading that row read that far right.
template <int kElemBytes>
constexpr int32_t kRowBoxMaxShift = 16 / kElemBytes - 1;
template <int kElemBytes>
CONVT1D_HOST_DEVICE inline int32_t row_box_shift(int32_t f) {
  return f & kRowBoxMaxShift<kElemBytes>;
}

// The copy of one channel row of a window whose first element is flat x element f: `box` is the x element
// its stage row starts with (x_cols elements), [first, end) the part inside x, which lands first - box
// elements into the stage row (end <= first: nothing to copy).
struct RowBox {
  int32_t box, first, end;
};
template <int kElemBytes>
CONVT1D_HOST_DEVICE inline RowBox row_box(int32_t f, int32_t x_cols, int32_t x_elements) {
  RowBox r;
  r.box = f - row_box_shift<kElemBytes>(f);
  r.first = r.box > 0 ? r.box : 0;
  r.end = r.box + x_cols < x_elements ? r.box + x_cols : x_elements;
  return r;
}

// The row position that stage column c of a channel row holds, for a window starting at row position
// `start` whose first element in that row is flat x element f: outside [0, in_length) the consumer zeroes
// the column (the copy read it from a neighbouring row, or left it unwritten past x).
template <int kElemBytes>
CONVT1D_HOST_DEVICE inline int32_t row_box_position(int32_t start, int32_t f, int32_t c) {
  return start - row_box_shift<kElemBytes>(f) + c;
}

}  // namespace convt1d::detail
