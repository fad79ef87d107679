// The streaming kernels' tile walk (src/tile_walk.hpp) on the CPU, with and without runs: the blocks'
// walks take every tile exactly once; a block's tiles are the ones its formula names, each with the
// batch row, the tile within the row, the x stage and the barrier parity of its index; and each
// consumer's walk (every other tile) is the producer's even or odd tiles.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tile_walk.hpp"

namespace {

using convt1d::detail::stream::TileWalk;

template <bool kRuns>
void check_walks(int32_t tiles, int32_t tiles_per_row, int32_t blocks, int32_t run, int32_t stages) {
  SCOPED_TRACE("tiles " + std::to_string(tiles) + ", per row " + std::to_string(tiles_per_row) + ", blocks " +
               std::to_string(blocks) + ", run " + std::to_string(run) + ", stages " + std::to_string(stages));
  const int32_t r = kRuns ? run : 1;
  std::vector<int> taken(static_cast<size_t>(tiles), 0);
  for (int32_t b = 0; b < blocks; ++b) {
    std::vector<int32_t> mine;
    for (TileWalk<kRuns> w(b, blocks, 0, 1, run, stages, tiles_per_row); w.tile < tiles; w.next()) {
      const auto i = static_cast<int32_t>(mine.size());
      ASSERT_LE(i, tiles) << "the walk does not end";
      ASSERT_EQ(w.tile, r * b + i % r + i / r * r * blocks) << "block " << b << ", its tile " << i;
      ASSERT_GE(w.tile, 0);
      EXPECT_EQ(w.row, w.tile / tiles_per_row);
      EXPECT_EQ(w.col_tile, w.tile % tiles_per_row);
      EXPECT_EQ(w.stage, i % stages);
      EXPECT_EQ(w.parity, static_cast<uint32_t>(i / stages) & 1);
      ++taken[static_cast<size_t>(w.tile)];
      mine.push_back(w.tile);
    }
    for (int32_t h = 0; h < 2; ++h) {
      size_t k = static_cast<size_t>(h);
      for (TileWalk<kRuns> w(b, blocks, h, 2, run, stages, tiles_per_row); w.tile < tiles; w.next(), k += 2) {
        ASSERT_LT(k, mine.size()) << "consumer " << h << " of block " << b << " walks past the block's tiles";
        EXPECT_EQ(w.tile, mine[k]);
        EXPECT_EQ(w.row, w.tile / tiles_per_row);
        EXPECT_EQ(w.col_tile, w.tile % tiles_per_row);
        EXPECT_EQ(w.stage, static_cast<int32_t>(k) % stages);
        EXPECT_EQ(w.parity, static_cast<uint32_t>(k / static_cast<size_t>(stages)) & 1);
      }
      EXPECT_GE(k, mine.size()) << "consumer " << h << " of block " << b << " stops early";
    }
  }
  for (int32_t t = 0; t < tiles; ++t) ASSERT_EQ(taken[static_cast<size_t>(t)], 1) << "tile " << t;
}

TEST(TileWalk, EveryTileOnceInTheBlocksOrder) {
  struct Case {
    int32_t tiles, tiles_per_row, blocks;
  };
  // KB74 (1025 tiles per row, 132 blocks), one-tile rows, more blocks than tiles, partial last rounds.
  const Case cases[] = {{32 * 1025, 1025, 132}, {7, 1, 3}, {5, 2, 8}, {1000, 3, 132}, {4226, 2113, 66},
                        {1, 1, 1}, {263, 7, 4}};
  for (const Case& c : cases)
    for (const int32_t stages : {2, 4, 6}) {
      check_walks<false>(c.tiles, c.tiles_per_row, c.blocks, 1, stages);
      for (const int32_t run : {1, 2, 3, 4}) check_walks<true>(c.tiles, c.tiles_per_row, c.blocks, run, stages);
    }
}

}  // namespace
