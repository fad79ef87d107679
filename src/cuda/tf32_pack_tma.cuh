// The TF32 operand packing by TMA (WgmmaTiling::pack_blocks; perf-log steps 149-152): the same output
// as transpose_to_tf32, moved global -> shared -> global by TMA on one persistent block per SM, for
// the layers whose packing is large enough that the copy speed matters more than the launch.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/tf32_transpose.cuh"

namespace convt1d::detail {

// Whether TMA can read and write these jobs: 16-byte aligned bases and row pitches (length a multiple
// of 4 floats), and the same channel chunks in every job (W^T and x^T: C_in).
bool tf32_pack_tma_fits(const TransposeJob* jobs, int count);

// Packs the jobs on `blocks` blocks (at most one per SM: each holds ~210 KB of shared memory). The
// kernel launched next as a programmatic dependent reads the output after wait_prior_grid(), as it
// does after transpose_to_tf32. Needs tf32_pack_tma_fits.
void tf32_pack_tma(const TransposeJob* jobs, int count, int64_t blocks, int device, cudaStream_t stream);

}  // namespace convt1d::detail
