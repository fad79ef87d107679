// Where a streaming tile's x rows land when they come through residue maps (StreamTiling::row_residues: 16-bit
// x rows that are not 16-byte multiples, C_in 32 or 64), and where each consumer thread reads them: plain C++
// that the kernel (src/cuda/wgmma_stream.cu), the plan and the CPU tests share.
//
// With R = 16 bytes / element size = 8 and C_in a multiple of R, the channel rows of x whose flat starts agree
// modulo R (channels r, r + R, r + 2R, ... of every batch row) lie R * L_in elements apart, a 16-byte pitch
// that one TMA map steps through: map r starts at x itself, its row m is channel r + R (m % (C_in / R)) of
// batch row m / (C_in / R), and its columns run r * L_in + position, up to the row's end (TMA zero-fills
// past it). TMA boxes start on 16 bytes (a box started anywhere else faults, perf-log steps 193 and 200), so
// a window starting at position `start` (a multiple of R) is read from column r * L_in + start - d_r, where
// d_r = (r * L_in) mod R, and lands d_r columns right in its slots, the same d_r for every tile. In the
// stage, residue r's C_in / R rows form group r (one box), groups a multiple of 128 bytes apart (TMA's
// shared-memory alignment); W^T's image orders each tap's reduction by where the consumers read its channels
// (residue_place), so that a fragment load's four lanes q read rows q of one group, whose starts (x_cols
// 16 mod 32 where the window allows, plan_window) lie in distinct bank groups whatever the group's shift. Groups a multiple of 128 bytes
// apart put the same row of two groups on the same banks (only the shifts differ), which the plain order
// (channel by group, then row) made lanes q read at once: KB74 bf16 on rows of 131071 ran 11 % slower than
// on row boxes (perf-log step 201).
#pragma once

#include <cstdint>

#include "host_device.hpp"

namespace convt1d::detail {

constexpr int32_t kResidueMaps = 8;           // R: 16 bytes of 16-bit elements
constexpr int32_t kResidueGroupAlign = 128;   // bytes: where TMA may write a box in shared memory
constexpr int32_t kResidueChunkSteps = 4;     // the consumer's k-steps per W^T chunk (kStepsPerGroup)
constexpr int32_t kResidueLanes = 4;          // a fragment's k-slot lanes (q = lane % 4): rows per group and step

// Where reduction slot `slot` of a tap (its k-step s = slot / 16, k-slot k = slot mod 16 within it) is read
// from: k = 2q + e + 8h (lane q's pair e of half h) is row 4 (s / 2) + q of group 4 (s % 2) + 2h + e. A step
// thus reads four whole groups' rows 4 (s / 2)..+3, and the steps of a tap read every row of every group once
// where C_in / R is 4 or 8, i.e. a tap of 2 or 4 k-steps (the plan's condition).
struct ResiduePlace {
  int32_t group, row;
};
CONVT1D_HOST_DEVICE inline ResiduePlace residue_place(int32_t slot) {
  constexpr int32_t kStep = 2 * kResidueMaps;
  const int32_t s = slot / kStep, k = slot % kStep;
  return {kResidueMaps / 2 * (s % 2) + k / 8 * 2 + k % 2, kResidueLanes * (s / 2) + k / 2 % kResidueLanes};
}

// The channel whose row reduction slot `slot` reads (residue_place): residue `group`, row `row` of it.
CONVT1D_HOST_DEVICE inline int32_t row_residue_channel(int32_t slot) {
  const ResiduePlace at = residue_place(slot);
  return at.group + kResidueMaps * at.row;
}

// How far right residue r's rows land in their slots: (r * L_in) mod R.
CONVT1D_HOST_DEVICE inline int32_t row_residue_landing(int32_t r, int32_t length_mod) {
  return r * length_mod % kResidueMaps;
}

// A stage of residue groups.
struct ResidueStage {
  int32_t rows;         // C_in / R: a group's rows (one box)
  int32_t group_elems;  // from one group to the next, in elements (a multiple of kResidueGroupAlign bytes)
  int32_t x_cols;       // a row's pitch
  int32_t length_mod;   // L_in mod R
};

// Where window column 0 of reduction slot `slot` lies in the stage, in elements.
CONVT1D_HOST_DEVICE inline int32_t residue_slot_offset(const ResidueStage& s, int32_t slot) {
  const ResiduePlace at = residue_place(slot);
  return at.group * s.group_elems + at.row * s.x_cols + row_residue_landing(at.group, s.length_mod);
}

// Lane q's rows in k-step kk of a W^T chunk (the fragment's k-slots 2q, 2q + 1, 2q + 8, 2q + 9): `low`, what to
// add to where a stage of channel rows in order would hold slot 2q (row ci0 + 2q, as the thread's own offset
// and chunk_offsets have it), `high` from slot 2q's row to slot 2q + 8's, `pair` and `pair_high` from each of
// the two to the next slot's row. Every chunk starts a tap, as the taps' steps divide kResidueChunkSteps (the
// plan's condition), so step kk reads slots ci0.. with ci0 = 16 (kk mod steps per tap).
struct ResidueRows {
  int32_t low, high, pair, pair_high;
};
CONVT1D_HOST_DEVICE inline ResidueRows residue_rows(const ResidueStage& s, int32_t q, int32_t kk) {
  constexpr int32_t kStep = 2 * kResidueMaps, kHigh = 8;
  const int32_t steps_per_tap = kResidueMaps * s.rows / kStep;
  const int32_t first = kk % steps_per_tap * kStep + 2 * q;
  const int32_t at = residue_slot_offset(s, first);
  ResidueRows r;
  r.low = at - first * s.x_cols;
  r.high = residue_slot_offset(s, first + kHigh) - at;
  r.pair = residue_slot_offset(s, first + 1) - at;
  r.pair_high = residue_slot_offset(s, first + kHigh + 1) - (at + r.high);
  return r;
}

}  // namespace convt1d::detail
