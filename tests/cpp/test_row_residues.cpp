// The residue-map arithmetic (src/row_residues.hpp) that the streaming kernel runs where 16-bit x rows are not
// 16-byte multiples and C_in allows, on the CPU, for planned layers: each tile's R TMA boxes (from their
// maps' coordinates, zero outside each map row as TMA fills them), the columns the consumer zeroes left of
// the row, and then every fragment load of every consumer thread, k-step and tap, at the offsets
// residue_rows gives, reads exactly x at its channel and position (zero outside the row). Also what TMA
// asks of the boxes: 16-byte starts in x, 128-byte destinations in shared memory; that a warp's fragment
// loads meet no bank twice; and that zero steps' loads stay inside the zero block.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "convt1d/convt1d.h"
#include "plan.hpp"
#include "row_residues.hpp"
#include "test_stream_layer.hpp"

namespace {

using convt1d::detail::ResidueRows;
using convt1d::detail::ResidueStage;
using convt1d::detail::residue_rows;
using convt1d::detail::row_residue_channel;
using convt1d::detail::row_residue_landing;

using Layer = t1d::StreamLayer;

constexpr int kWarps = 4, kQuads = 4, kGroupRows = 8;  // a consumer warpgroup's warps; lane = 4 g + q
constexpr int kBlockM = 64;                             // positions per m64 block (two per tile)
constexpr int kElem16 = 2;                              // bytes of a 16-bit element

int64_t loads_outside_rows = 0;  // fragment elements check_layer found outside their rows (zeros), all layers

void check_layer(const Layer& l) {
  const convt1d::detail::Plan plan = t1d::forced_stream_plan(l, CONVT1D_BFLOAT16);
  const convt1d::detail::StreamTiling& t = plan.stream;
  constexpr int32_t residues = convt1d::detail::kResidueMaps;
  ASSERT_EQ(plan.kernel, convt1d::detail::KernelKind::WgmmaStream) << plan.reason;
  ASSERT_TRUE(t.row_residues) << "C_in " << l.c_in << " L_in " << l.length;
  ASSERT_FALSE(t.row_boxes);
  const auto c_in = static_cast<int32_t>(l.c_in), length = static_cast<int32_t>(l.length);
  const ResidueStage& st = t.residue;  // what the kernel is given
  ASSERT_EQ(st.rows, c_in / residues);
  ASSERT_EQ(st.x_cols, t.x_cols);
  ASSERT_EQ(st.length_mod, length % residues);
  const int32_t group_bytes = st.group_elems * kElem16;
  ASSERT_EQ(group_bytes % convt1d::detail::kResidueGroupAlign, 0) << "TMA's shared-memory alignment";
  ASSERT_GE(group_bytes, st.rows * t.x_cols * kElem16) << "a box fits its group";
  ASSERT_LE(int64_t{residues} * group_bytes, t.stage_bytes);
  ASSERT_EQ(t.ci_pad, c_in);
  const int32_t stage_elems = static_cast<int32_t>(t.stage_bytes / kElem16);
  const int32_t zero_elems = static_cast<int32_t>(t.zero_bytes / kElem16);
  const int64_t x_elements = l.batch * l.c_in * l.length;
  auto x = [](int64_t flat) { return flat + 1.0; };  // distinct, none zero
  constexpr int32_t rows_per_q = 2, high_rows = 8;  // a lane's k-slots 2q, 2q + 1, 2q + 8, 2q + 9
  const int32_t k_step = t.k_step, steps_per_tap = c_in / k_step;
  ASSERT_EQ(convt1d::detail::kResidueChunkSteps % steps_per_tap, 0);
  // every chunk of every phase starts a tap (the kernel's offsets assume it)
  for (int64_t r = 0; r < l.stride; ++r) ASSERT_EQ(t.phase_steps[r] % steps_per_tap, 0);
  int64_t zeroed = 0, inside = 0;
  for (int32_t b = 0; b < l.batch; ++b)
    for (int64_t j = 0; j < t.tiles_per_row; ++j) {
      const auto start = static_cast<int32_t>(t.q_first + j * t.positions + t.x_base);
      ASSERT_EQ(((start % residues) + residues) % residues, 0) << "window starts on 16 bytes";
      std::vector<double> stage(static_cast<size_t>(stage_elems), -1.0);  // poison: never a value of x
      // The producer: box r from map r (base x, rows R * L_in apart, r * L_in + L_in columns).
      for (int32_t r = 0; r < residues; ++r) {
        const int32_t land = row_residue_landing(r, st.length_mod);
        const int64_t c0 = int64_t{r} * length + start - land;
        ASSERT_EQ(((c0 % residues) + residues) % residues, 0) << "box start on 16 bytes";
        for (int32_t i = 0; i < st.rows; ++i) {
          const int64_t map_row = int64_t{b} * st.rows + i;
          for (int32_t c = 0; c < t.x_cols; ++c) {
            const int64_t column = c0 + c;
            const bool in_map = column >= 0 && column < int64_t{r + 1} * length;
            const int64_t flat = map_row * residues * length + column;
            if (in_map) ASSERT_LT(flat, x_elements);
            stage[static_cast<size_t>(r * st.group_elems + i * t.x_cols + c)] = in_map ? x(flat) : 0.0;
          }
        }
      }
      // The consumer's fix-up of a window reaching left of its row (zero_left_of_row): maps 1.. only.
      if (start < 0)
        for (int32_t r = 1; r < residues; ++r) {
          const int32_t cols = row_residue_landing(r, st.length_mod) - start;
          ASSERT_LE(cols, t.x_cols);
          for (int32_t i = 0; i < st.rows * cols; ++i, ++zeroed)
            stage[static_cast<size_t>(r * st.group_elems + i / cols * t.x_cols + i % cols)] = 0.0;
        }
      // Every fragment element each thread loads, for every step of a chunk and every tap's column offset.
      for (int32_t kk = 0; kk < convt1d::detail::kResidueChunkSteps; ++kk) {
        const int32_t ci0 = kk % steps_per_tap * k_step;
        for (int32_t shift = 0; shift <= -t.x_base; ++shift) {
          // a tap of this shift reads window column `col` for the tile's position 0 (chunk_offsets)
          const int32_t col = -t.x_base - shift;
          for (int32_t q = 0; q < kQuads; ++q) {
            const ResidueRows rr = residue_rows(st, q, kk);
            for (int32_t warp = 0; warp < kWarps; ++warp)
              for (int32_t g = 0; g < kGroupRows; ++g)
                for (int32_t mb = 0; mb < 2; ++mb) {
                  // as the kernel: thread_off + off + low, with off = ci0 * x_cols + col (+ 64 for block 1)
                  const int32_t first = rows_per_q * q * t.x_cols + 16 * warp + g + kBlockM * mb + ci0 * t.x_cols +
                                        col + rr.low;
                  for (int32_t hi = 0; hi < 2; ++hi)          // fragment rows g, g + 8
                    for (int32_t row = 0; row < 2; ++row)     // k-slots first, first + high_rows
                      for (int32_t e = 0; e < rows_per_q; ++e) {  // 16-bit: the pair's second slot
                        const int32_t at = first + 8 * hi + row * rr.high + e * (row ? rr.pair_high : rr.pair);
                        ASSERT_GE(at, 0);
                        ASSERT_LT(at, stage_elems);
                        const int32_t slot = ci0 + rows_per_q * q + row * high_rows + e;
                        const int32_t ci = row_residue_channel(slot);
                        const int32_t position = start + col + kBlockM * mb + 16 * warp + g + 8 * hi;
                        const bool in_row = position >= 0 && position < length;
                        inside += in_row;
                        loads_outside_rows += !in_row;
                        const double want = in_row ? x((int64_t{b} * c_in + ci) * length + position) : 0.0;
                        ASSERT_EQ(stage[static_cast<size_t>(at)], want)
                            << "batch row " << b << " tile " << j << " step " << kk << " q " << q << " channel " << ci
                            << " position " << position;
                      }
                }
          }
        }
      }
    }
  // Each fragment load of a warp (8 positions g at each of four lanes q, one row per lane) meets every bank in
  // one 4-byte word at most, whatever the landing shifts, where the window allows the pitch for it.
  const bool conflict_free = t.x_cols % 32 == 16;
  if (!conflict_free) EXPECT_GT(t.x_cols + 16, convt1d::detail::kStreamMaxBox);
  for (int32_t kk = 0; kk < convt1d::detail::kResidueChunkSteps && conflict_free; ++kk)
    for (int32_t row = 0; row < 2 * rows_per_q; ++row) {  // first, its pair, high, high's pair
      std::vector<int64_t> word_in_bank(32, -1);
      for (int32_t q = 0; q < kQuads; ++q) {
        const ResidueRows rr = residue_rows(st, q, kk);
        const int32_t ci0 = kk % steps_per_tap * k_step;  // (chunk_offsets' channel rows)
        const int32_t at = (ci0 + rows_per_q * q) * t.x_cols + rr.low + (row / rows_per_q) * rr.high +
                           (row % rows_per_q) * (row / rows_per_q ? rr.pair_high : rr.pair);
        for (int32_t g = 0; g < kGroupRows; ++g) {
          const int64_t word = (int64_t{at} + g) * kElem16 / 4;
          int64_t& seen = word_in_bank[static_cast<size_t>(word % 32)];
          EXPECT_TRUE(seen < 0 || seen == word)
              << "bank conflict: step " << kk << " row " << row << " q " << q << " C_in " << c_in << " L " << length;
          seen = word;
        }
      }
    }
  // Zero steps: the first row on the zero block, the others as far from it as residue_rows puts them.
  for (int32_t kk = 0; kk < convt1d::detail::kResidueChunkSteps; ++kk)
    for (int32_t q = 0; q < kQuads; ++q) {
      const ResidueRows rr = residue_rows(st, q, kk);
      const int32_t last = rows_per_q * q * t.x_cols + 16 * (kWarps - 1) + (kGroupRows - 1) + 8 +
                           std::max((rows_per_q - 1) * rr.pair, rr.high + (rows_per_q - 1) * rr.pair_high);
      EXPECT_LT(last, zero_elems) << "step " << kk << " q " << q;
    }
  EXPECT_EQ(zeroed > 0, t.q_first + t.x_base < 0) << "the first window reaches left of its row, or none does";
  EXPECT_GT(inside, 0);
}

// C_in 32 and 64 (2 and 4 k-steps a tap) on rows of every residue.
const Layer kLayers[] = {
    {2, 32, 64, 1001, 5, 1, 0, 3},   // KB74's channels and taps
    {3, 64, 24, 333, 4, 2, 1, 1},    // two phases, 4 steps a tap
    {2, 32, 33, 37, 16, 1, 7, 7},    // one window wider than its row, the widest (bank conflicts)
    {2, 32, 33, 37, 12, 1, 7, 7},    // one window wider than its row
    {4, 32, 40, 2003, 3, 1, 69, 5},  // padding beyond the reach
    {2, 32, 20, 1002, 4, 1, 9, 2},   // rows of 2 mod 8
    {2, 64, 20, 1004, 4, 1, 9, 2},   // rows of 4 mod 8
    {2, 64, 20, 1007, 4, 1, 9, 2},   // rows of 7 mod 8
};

TEST(RowResidues, FragmentsReadExactlyTheirRows) {
  for (const Layer& l : kLayers) {
    check_layer(l);
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(loads_outside_rows, 0) << "no load read outside its row";
}

// A tap's reduction slots are a permutation of the channels, each read from its residue's group.
TEST(RowResidues, SlotsArePermutationsByResidue) {
  constexpr int32_t residues = convt1d::detail::kResidueMaps;
  for (int32_t c_in : {32, 64}) {  // taps of 2 and 4 k-steps
    std::vector<int> seen(static_cast<size_t>(c_in), 0);
    for (int32_t slot = 0; slot < c_in; ++slot) {
      const int32_t ci = row_residue_channel(slot);
      ASSERT_LT(ci, c_in);
      EXPECT_EQ(ci % residues, convt1d::detail::residue_place(slot).group) << "slot " << slot;
      ++seen[static_cast<size_t>(ci)];
    }
    for (int n : seen) EXPECT_EQ(n, 1);
  }
}

}  // namespace
