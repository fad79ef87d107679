// Where a streaming tile's outputs sit in its staging when y's rows do not start on whole store vectors
// (16-bit y rows at stride 1 whose length, or the first tile's output, is not a multiple of 4: any odd audio
// length; y itself at any alignment; StreamTiling::skewed_rows), and which stores the store warps make of
// them: plain C++ that the kernel (src/cuda/wgmma_stream.cu) and the CPU tests share.
//
// A tile writes `outputs` (128 x stride) consecutive outputs t0.. of each of its channel rows. Row co's
// output t0 lies s = (its element address) mod 4 elements past a vector boundary of y (the row's skew). The
// consumers stage output e of the row in slot (e + s) mod outputs of the row's staging, so that staged vector
// v (slots 4v..4v+3) is, for v >= 1, exactly the vector of y at t0 - s + 4v: the store warps move it as it
// is, as they move every vector of rows that start aligned. Vector 0 holds the row's first 4 - s outputs in
// its slots s..3 and, wrapped around, its last s outputs in slots 0..s-1: both ends share vectors of y with
// the neighbouring tiles, so it leaves in pieces (4-byte pairs where aligned), each store lane taking one
// row's vector 0 (a lane that did so inside the row loop would hold its whole warp up for every row).
//
// Each staged row is kSkewRowPad bytes longer than its outputs, so that the rows of one fragment store
// (channels 2q + j, q < 4) start 4 banks apart and a skew moves a row's slots by a plain offset (the
// unskewed staging XORs its 16-byte chunks by channel instead, which a skew would cross).
//
// Stored element by element instead, 16-bit rows took four stores per lane and row, and 1.37x y's L2 write
// sectors: KB74's layer on rows of 131071 ran 33 % above its 16-byte rows in 16-bit, 23 % staged skewed
// (perf-log steps 199-208).
#pragma once

#include <cstdint>

#include "host_device.hpp"

namespace convt1d::detail {

constexpr int32_t kSkewVector = 4;   // elements per store vector (kStreamLaneOutputs)
constexpr int32_t kSkewRowPad = 16;  // bytes after each staged row

// Bytes from one staged row to the next: `outputs` elements of `elem` bytes and the pad.
CONVT1D_HOST_DEVICE inline int32_t skewed_row_pitch(int32_t outputs, int32_t elem) {
  return outputs * elem + kSkewRowPad;
}

// The skew of a row whose output t0 lies at element address `element` (its byte address / element size).
CONVT1D_HOST_DEVICE inline int32_t row_skew(uint64_t element) { return static_cast<int32_t>(element % kSkewVector); }

// The staging slot of output e (0 <= e < outputs, outputs a multiple of kSkewVector) of a row of skew s.
CONVT1D_HOST_DEVICE inline int32_t skewed_slot(int32_t e, int32_t s, int32_t outputs) {
  const int32_t slot = e + s;
  return slot >= outputs ? slot - outputs : slot;
}

// The output that staging slot `slot` of a row of skew s holds, counted from the vector of y at t0 - s (so
// slot j >= s holds output j - s, and slot j < s output outputs - s + j, i.e. y's element t0 - s + outputs + j).
CONVT1D_HOST_DEVICE inline int32_t slot_place(int32_t slot, int32_t s, int32_t outputs) {
  return slot < s ? outputs + slot : slot;
}

}  // namespace convt1d::detail
