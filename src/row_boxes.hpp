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

// fp32 stage slots. A fragment load reads the x rows of four consecutive slots at once (one per lane quad, 8
// positions each): conflict-free only where the four rows start on distinct 8-bank groups (their slots differ
// mod 4, x_cols being 8 mod 16) and share their shift. Channel rows 4 apart share a shift, so where the rows
// come in whole groups of 16 (row_box_transposed), each group sits transposed as 4 x 4 in the stage: channel
// 16g + 4a + b in slot 16g + 4b + a, and W^T's image orders the reduction by slot the same way, so that a
// step's k-th row of W^T still meets the x row in its k-th slot. Otherwise, and in 16-bit (whose pair loads
// hit distinct banks whatever the shifts; ncu, perf-log step 195), channel ci sits in slot ci. An involution:
// the slot's channel is row_box_slot(slot) too.
constexpr int32_t kRowBoxSlotGroup = 16;  // channel rows per transposed group
template <int kElemBytes>
CONVT1D_HOST_DEVICE inline bool row_box_transposed(int32_t ci_pad) {
  return kElemBytes == 4 && ci_pad % kRowBoxSlotGroup == 0;
}
template <int kElemBytes>
CONVT1D_HOST_DEVICE inline int32_t row_box_slot(int32_t ci, int32_t ci_pad) {
  if (!row_box_transposed<kElemBytes>(ci_pad)) return ci;
  return (ci & ~15) | ((ci & 3) << 2) | ((ci >> 2) & 3);
}

// Transposed fp32 slots: which of a window's channel rows 0-3 has the shift of every row in stage slot
// `slot` (it holds channel 16g + 4 (slot % 4) + (slot / 4 % 4)). A step's slots 0-3 and 4-7 thus each share
// one shift, that of rows 0 and 1 in an even step, 2 and 3 in an odd one.
CONVT1D_HOST_DEVICE inline int32_t row_box_slot_shift_row(int32_t slot) { return (slot >> 2) & 3; }

}  // namespace convt1d::detail
