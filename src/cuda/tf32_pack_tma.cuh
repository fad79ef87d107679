// The TF32 operand packing by TMA (WgmmaTiling::pack_blocks; perf-log steps 149-152): the same output
// as transpose_to_tf32, moved global -> shared -> global by TMA on one persistent block per SM, for
// the layers whose packing is large enough that the copy speed matters more than the launch.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/tf32_transpose.cuh"

namespace convt1d::detail {

// Packs the jobs on `blocks` blocks (at most one per SM: each holds ~210 KB of shared memory). The
// kernel launched next as a programmatic dependent reads the output after wait_prior_grid(), as it
// does after transpose_to_tf32. Where the plan chose it (WgmmaTiling::pack_blocks: rows of multiples of
// 4 positions) and dispatch let TMA run (16-byte aligned x and W; the workspaces are).
void tf32_pack_tma(const TransposeJob* jobs, int count, int64_t blocks, int device, cudaStream_t stream);

}  // namespace convt1d::detail
