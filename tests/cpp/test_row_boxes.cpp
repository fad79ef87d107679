// The row-box arithmetic (src/row_boxes.hpp) that the streaming kernel runs where x rows are not 16-byte
// multiples, on the CPU, for planned layers: each channel row's bulk copy of every tile's window, the
// columns its consumer zeroes and the columns each thread reads give exactly the window of x, zero outside
// its row; every copy starts, lands and ends on 16 bytes; and each thread's rows share the shift it reads
// them by (fp32: its stage slots q, q + 4 of every 8, which hold channel rows transposed in groups of 16
// where there are whole groups; 16-bit: rows 2q, 2q + 8 and 2q + 1, 2q + 9 of every 16). For transposed
// slots also their purpose: the four slots one fragment load reads lie in distinct bank groups and share
// their shift.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "convt1d/convt1d.h"
#include "plan.hpp"
#include "row_boxes.hpp"
#include "test_stream_layer.hpp"

namespace {

using convt1d::detail::row_box;
using convt1d::detail::row_box_position;
using convt1d::detail::row_box_shift;
using convt1d::detail::row_box_slot;
using convt1d::detail::row_box_slot_shift_row;

using Layer = t1d::StreamLayer;

int transposed_layers = 0;  // fp32 layers whose slots check_layer found transposed

template <int kElem>
void check_layer(const Layer& l) {
  const convt1d::detail::StreamTiling t =
      t1d::forced_stream_plan(l, kElem == 4 ? CONVT1D_FLOAT32 : CONVT1D_BFLOAT16).stream;
  ASSERT_TRUE(t.row_boxes) << "L_in " << l.length;
  const auto c_in = static_cast<int32_t>(l.c_in), length = static_cast<int32_t>(l.length);
  const auto x_elements = static_cast<int32_t>(l.batch * l.c_in * l.length);
  const int32_t need = t.positions - t.x_base;  // the window columns the fragment loads read
  const int32_t rows_per_step = t.k_step;        // channel rows of one reduction step
  const bool transposed = convt1d::detail::row_box_transposed<kElem>(t.ci_pad);
  transposed_layers += transposed;
  std::vector<double> x(static_cast<size_t>(x_elements));
  for (int32_t e = 0; e < x_elements; ++e) x[static_cast<size_t>(e)] = e + 1.0;  // distinct, none zero
  int copies = 0, clipped = 0, zeroed = 0;
  for (int32_t b = 0; b < l.batch; ++b)
    for (int64_t j = 0; j < t.tiles_per_row; ++j) {
      const auto start = static_cast<int32_t>(t.q_first + j * t.positions + t.x_base);
      const int32_t f0 = b * c_in * length + start;
      for (int32_t ci = 0; ci < c_in; ++ci) {
        const int32_t f = f0 + ci * length;
        const convt1d::detail::RowBox r = row_box<kElem>(f, t.x_cols, x_elements);
        ASSERT_EQ(r.box * kElem % 16, 0);
        std::vector<double> stage(static_cast<size_t>(t.x_cols), -1.0);  // poison: never a value of x
        if (r.end > r.first) {
          ++copies;
          clipped += r.end - r.first < t.x_cols;
          ASSERT_EQ(r.first * kElem % 16, 0);
          ASSERT_EQ((r.end - r.first) * kElem % 16, 0);
          ASSERT_LE(r.end - r.box, t.x_cols);
          for (int32_t e = r.first; e < r.end; ++e) stage[static_cast<size_t>(e - r.box)] = x[static_cast<size_t>(e)];
        }
        for (int32_t c = 0; c < t.x_cols; ++c) {
          const int32_t position = row_box_position<kElem>(start, f, c);
          if (position < 0 || position >= length) {
            stage[static_cast<size_t>(c)] = 0.0;
            ++zeroed;
          }
        }
        // The threads that read row ci read it by the shift of the window's row 0-3 that their slot's
        // step parity and half name (fp32: the row sits in slot row_box_slot(ci)), or of row ci mod 8
        // (16-bit: thread q reads 2q, 2q + 1, 2q + 8, 2q + 9 of every 16, the odd ones by their own shift).
        const int32_t slot = row_box_slot<kElem>(ci, t.ci_pad);
        ASSERT_LT(slot, t.ci_pad);
        ASSERT_EQ(row_box_slot<kElem>(slot, t.ci_pad), ci)
            << "the slot order is its own inverse (W^T's image uses it)";
        const int32_t group_row = kElem == 2 ? ci % 8 : transposed ? row_box_slot_shift_row(slot) : ci % 4;
        const int32_t shift = row_box_shift<kElem>(f0 + group_row * length);
        ASSERT_EQ(shift, row_box_shift<kElem>(f)) << "row " << ci << " of a step of " << rows_per_step;
        ASSERT_LE(shift + need, t.x_cols) << "the window leaves no room for the shift";
        for (int32_t col = 0; col < need; ++col) {
          const int32_t position = start + col;
          const double want = position >= 0 && position < length ? x[static_cast<size_t>(f + col)] : 0.0;
          ASSERT_EQ(stage[static_cast<size_t>(shift + col)], want)
              << "batch row " << b << " tile " << j << " channel " << ci << " column " << col;
        }
      }
    }
  if (transposed) {  // each load instruction's four slots (k-slots 0-3 or 4-7 of a step)
    for (int32_t first = 0; first < t.ci_pad; first += 4) {
      int banks = 0;
      for (int32_t q = 0; q < 4; ++q) {
        banks |= 1 << (((first + q) * t.x_cols / 8) % 4);  // the slot's 8-bank group (x_cols is 8 mod 16)
        EXPECT_EQ(row_box_slot<kElem>(first + q, t.ci_pad) % 4, row_box_slot<kElem>(first, t.ci_pad) % 4)
            << "slots " << first << "-" << first + 3 << " hold rows of different shifts";
      }
      EXPECT_EQ(banks, 15) << "slots " << first << "-" << first + 3 << " share a bank group";
    }
  }
  EXPECT_GT(copies, 0);
  EXPECT_GT(clipped, 0) << "no copy reached past x";
  EXPECT_GT(zeroed, 0) << "no window reached past its row";
}

// C_in that residue maps do not take (row_residues.hpp); x as a whole in 16-byte pieces.
const Layer kLayers[] = {
    {4, 30, 64, 1001, 5, 1, 0, 3},  // KB74's taps
    {4, 46, 24, 333, 4, 2, 1, 1},   // two phases
    {8, 13, 20, 2001, 4, 1, 9, 2},  // channel rows past C_in; padding
    {4, 22, 33, 37, 16, 1, 7, 7},   // one window wider than its row
};

}  // namespace

TEST(RowBoxes, Fp32WindowsReadExactlyTheirRows) {
  transposed_layers = 0;
  for (const Layer& l : kLayers) {
    check_layer<4>(l);
    if (HasFatalFailure()) return;
  }
  EXPECT_EQ(transposed_layers, 3) << "C_in 30, 46 and 13 (padded to 32, 48, 16) come in whole groups of 16, 22 does not";
}

TEST(RowBoxes, SixteenBitWindowsReadExactlyTheirRows) {
  for (const Layer& l : kLayers) {
    check_layer<2>(l);
    if (HasFatalFailure()) return;
  }
}
