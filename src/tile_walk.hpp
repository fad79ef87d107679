// The streaming kernels' walk over their tiles (src/cuda/wgmma_stream.cu, wgmma_phase_stream.cu):
// plain C++ that the kernels run and the CPU tests check (test_plan_stream.cpp).
#pragma once

#include <cstdint>

#include "host_device.hpp"

namespace convt1d::detail::stream {

// A persistent block's walk over its tiles (`tiles_per_row` per batch row, x windows in a ring of
// `stages`): the batch row, the tile within it, and the x stage with its barrier parity, all stepped
// without divisions. Block `block` of `blocks` takes runs of `run` consecutive tiles: its i-th tile is
// run * block + i % run + (i / run) * run * blocks (run 1: block, + blocks, ...). A walker visits
// every `index_step`-th of them (1, or 2 for one consumer of two), from the block's tile
// `first_index`; run is 1 or at least index_step. Kernels compile runs only where the plan takes them
// (kRuns): without, the walk is one constant step (measured: the general walk cost KB74 16-bit 4 %
// even at run 1, perf-log step 92).
template <bool kRuns>
struct TileWalk {
  int32_t tile, row, col_tile, stage;
  uint32_t parity;
  int32_t index_step, stages, tiles_per_row;
  int32_t far_step, far_rows, far_cols;  // the step to the block's next run (without runs: every step)
  int32_t in_run, run_end;               // (kRuns) where in its run the walk is
  CONVT1D_HOST_DEVICE TileWalk(int32_t block, int32_t blocks, int32_t first_index, int32_t index_step_,
                               int32_t run, int32_t stages_, int32_t tiles_per_row_)
      : stage(first_index % stages_), parity(static_cast<uint32_t>(first_index / stages_) & 1),
        index_step(index_step_), stages(stages_), tiles_per_row(tiles_per_row_) {
    if constexpr (!kRuns) run = 1;
    in_run = first_index % run;
    run_end = run == 1 ? index_step : run;
    tile = run * block + in_run + first_index / run * run * blocks;
    row = tile / tiles_per_row;
    col_tile = tile % tiles_per_row;
    far_step = run == 1 ? index_step * blocks : run * blocks - run + index_step;
    far_rows = far_step / tiles_per_row;
    far_cols = far_step % tiles_per_row;
  }
  CONVT1D_HOST_DEVICE void next() {
    if constexpr (kRuns) {
      in_run += index_step;
      if (in_run >= run_end) {  // (run 1: every step)
        in_run -= run_end;
        tile += far_step;
        row += far_rows;
        col_tile += far_cols;
      } else {
        tile += index_step;
        col_tile += index_step;
      }
      while (col_tile >= tiles_per_row) {  // at most twice (index_step <= 2, far_cols < tiles_per_row)
        col_tile -= tiles_per_row;
        ++row;
      }
    } else {
      tile += far_step;
      row += far_rows;
      col_tile += far_cols;
      if (col_tile >= tiles_per_row) {
        col_tile -= tiles_per_row;
        ++row;
      }
    }
    stage += index_step;
    if (stage >= stages) {
      stage -= stages;
      parity ^= 1;
    }
  }
};

}  // namespace convt1d::detail::stream
