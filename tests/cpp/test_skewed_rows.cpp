// The streaming kernel's skewed staging of y rows (src/skewed_rows.hpp, StreamStores::Skewed): the consumers'
// slot for each output and the store warps' vectors and elements, simulated tile by tile on the CPU against y,
// and which layers the plan's stream_stores sends there.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "plan.hpp"
#include "skewed_rows.hpp"
#include "test_stream_layer.hpp"

namespace {

using convt1d::detail::kSkewVector;
using convt1d::detail::kStreamLaneOutputs;
using convt1d::detail::kStreamPositions;
using convt1d::detail::row_skew;
using convt1d::detail::skewed_slot;
using convt1d::detail::slot_place;
using convt1d::detail::StreamStores;

TEST(SkewedRows, EachOutputHasOneSlotAndComesBackFromIt) {
  for (int32_t phases = 1; phases <= 8; ++phases) {
    const int32_t outputs = kStreamPositions * phases;
    for (int32_t s = 0; s < kSkewVector; ++s) {
      std::vector<int> used(static_cast<size_t>(outputs), 0);
      for (int32_t e = 0; e < outputs; ++e) {
        const int32_t slot = skewed_slot(e, s, outputs);
        ASSERT_GE(slot, 0);
        ASSERT_LT(slot, outputs);
        ++used[static_cast<size_t>(slot)];
        EXPECT_EQ(slot_place(slot, s, outputs) - s, e) << "phases " << phases << " skew " << s;
      }
      for (int32_t slot = 0; slot < outputs; ++slot) EXPECT_EQ(used[static_cast<size_t>(slot)], 1) << slot;
    }
  }
}

// One tile of rows as the kernel handles it: the consumers stage each row's outputs t0.. at their skewed slots,
// the store warps write what the staging holds to y: where the tile lies inside the row, vectors 1.. of each row
// as they are and vector 0 as one vector where the row's skew is 0, else element by element; at the row's ends
// element by element inside the row. Every output of the tile inside the row must arrive once with its value,
// nothing outside it may be written, and every vector must start on a multiple of kSkewVector elements of y.
void check_tile(int64_t y_offset, int32_t length, int32_t rows, int32_t phases, int32_t t0) {
  SCOPED_TRACE("y offset " + std::to_string(y_offset) + ", rows of " + std::to_string(length) + ", phases " +
               std::to_string(phases) + ", t0 " + std::to_string(t0));
  const int32_t outputs = kStreamPositions * phases;
  std::vector<int64_t> y(static_cast<size_t>(y_offset + int64_t{rows} * length), -1);
  std::vector<int> writes(y.size(), 0);
  auto put = [&](int64_t at, int64_t value) {
    y[static_cast<size_t>(at)] = value;
    ++writes[static_cast<size_t>(at)];
  };
  for (int32_t row = 0; row < rows; ++row) {
    const int64_t at = y_offset + int64_t{row} * length + t0;  // element address of the row's output t0
    const int32_t s = row_skew(static_cast<uint64_t>(at));
    std::vector<int64_t> staging(static_cast<size_t>(outputs));
    for (int32_t e = 0; e < outputs; ++e) staging[static_cast<size_t>(skewed_slot(e, s, outputs))] = t0 + e;
    const bool inside = t0 >= 0 && t0 + outputs <= length;
    for (int32_t slot = 0; slot < outputs; slot += kStreamLaneOutputs) {
      if (inside && (slot > 0 || s == 0)) {
        ASSERT_EQ((at - s + slot) % kSkewVector, 0) << "row " << row << " slot " << slot;
        for (int32_t i = 0; i < kSkewVector; ++i) put(at - s + slot + i, staging[static_cast<size_t>(slot + i)]);
      } else {
        for (int32_t i = 0; i < kSkewVector; ++i) {
          const int32_t place = slot_place(slot + i, s, outputs);
          if (t0 - s + place >= 0 && t0 - s + place < length) put(at - s + place, staging[static_cast<size_t>(slot + i)]);
        }
      }
    }
  }
  for (int32_t row = 0; row < rows; ++row)
    for (int32_t t = 0; t < length; ++t) {
      const auto at = static_cast<size_t>(y_offset + int64_t{row} * length + t);
      const bool in_tile = t >= t0 && t < t0 + outputs;
      ASSERT_EQ(writes[at], in_tile ? 1 : 0) << "row " << row << " output " << t;
      if (in_tile) ASSERT_EQ(y[at], t) << "row " << row << " output " << t;
    }
}

// The skewed staging's rows: fragment stores of channels 2q + j (q < 4) at the same slot start on distinct
// 4-bank groups, and every row starts on 16 bytes (the store lanes read vectors of it).
TEST(SkewedRows, StagedRowsStartFourBanksApartOn16Bytes) {
  for (int32_t phases = 1; phases <= 8; ++phases)
    for (int32_t elem : {2, 4}) {
      const int32_t pitch = convt1d::detail::skewed_row_pitch(kStreamPositions * phases, elem);
      EXPECT_EQ(pitch % 16, 0);
      for (int32_t j = 0; j < 2; ++j)
        for (int32_t q = 1; q < 4; ++q) EXPECT_EQ((2 * q + j) * pitch / 4 % 32, (j * pitch / 4 + 8 * q) % 32);
    }
}

TEST(SkewedRows, StoresWriteEachOutputOfATileOnceFromAlignedVectors) {
  std::mt19937_64 rng(207);
  for (int i = 0; i < 300; ++i) {
    const int32_t phases = std::uniform_int_distribution<int32_t>(1, 4)(rng);
    const int32_t outputs = kStreamPositions * phases;
    const int32_t length = std::uniform_int_distribution<int32_t>(outputs / 2, 3 * outputs)(rng);
    const int32_t rows = std::uniform_int_distribution<int32_t>(1, 9)(rng);
    const int64_t y_offset = std::uniform_int_distribution<int64_t>(0, 7)(rng);
    // tiles that start before the row (padding), inside it, and run past its end
    const int32_t t0 = std::uniform_int_distribution<int32_t>(-phases + 1, length - 1)(rng);
    check_tile(y_offset, length, rows, phases, t0);
  }
}

TEST(SkewedRows, StreamStoresPicksSkewedRowsFor16BitStrideOneTilesOffWholeVectors) {
  using t1d::StreamLayer;
  const StreamLayer kb74{4, 32, 64, 4096, 5, 1, 0, 3};   // rows of 4108: whole vectors
  const StreamLayer kb74o{4, 32, 64, 4097, 5, 1, 0, 3};  // rows of 4109
  const StreamLayer t4o{2, 48, 24, 4095, 4, 2, 1, 1};    // stride 2, rows of 8190: element stores (step 207)
  const StreamLayer boxes{2, 48, 24, 4094, 4, 1, 1, 1};  // stride 1, row boxes, rows of 4095
  for (int32_t dtype : {CONVT1D_FLOAT16, CONVT1D_BFLOAT16}) {
    const auto even = t1d::forced_stream_plan(kb74, dtype);
    ASSERT_FALSE(even.stream.phase_blocks);
    EXPECT_FALSE(even.stream.skewed_rows);
    EXPECT_EQ(stream_stores(even.shape, even.stream, dtype, 256), StreamStores::Vectors);
    EXPECT_EQ(stream_stores(even.shape, even.stream, dtype, 258), StreamStores::Elements);  // y one element off
    for (const StreamLayer& l : {kb74o, boxes}) {
      const auto odd = t1d::forced_stream_plan(l, dtype);
      ASSERT_FALSE(odd.stream.phase_blocks);
      EXPECT_TRUE(odd.stream.skewed_rows);
      // the staging holds the pad after each row
      EXPECT_EQ(odd.stream.staging_bytes,
                int64_t{odd.stream.n} * convt1d::detail::skewed_row_pitch(kStreamPositions, 2));
      for (uint64_t y = 256; y < 264; y += 2) EXPECT_EQ(stream_stores(odd.shape, odd.stream, dtype, y), StreamStores::Skewed);
    }
    const auto strided = t1d::forced_stream_plan(t4o, dtype);
    ASSERT_FALSE(strided.stream.phase_blocks);
    EXPECT_FALSE(strided.stream.skewed_rows);
    EXPECT_EQ(stream_stores(strided.shape, strided.stream, dtype, 256), StreamStores::Elements);
  }
  const auto fp32 = t1d::forced_stream_plan(kb74o, CONVT1D_FLOAT32);
  EXPECT_FALSE(fp32.stream.skewed_rows);
  EXPECT_EQ(stream_stores(fp32.shape, fp32.stream, CONVT1D_FLOAT32, 256), StreamStores::Elements);
  const auto fp32_even = t1d::forced_stream_plan(kb74, CONVT1D_FLOAT32);
  EXPECT_EQ(stream_stores(fp32_even.shape, fp32_even.stream, CONVT1D_FLOAT32, 256), StreamStores::Vectors);
  EXPECT_EQ(stream_stores(fp32_even.shape, fp32_even.stream, CONVT1D_FLOAT32, 264), StreamStores::Elements);
}

}  // namespace
