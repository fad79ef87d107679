// x copied into rows of a wider pitch, for TMA maps whose row pitch must be a 16-byte multiple, or with
// its batch rows joined (wgmma_common.cuh, TmaInput). Kernels rather than cudaMemcpy2DAsync so that the
// wgmma kernel after them can be their programmatic dependent (dependent_launch.cuh): its set-up then
// overlaps the copy, where a copy-engine transfer leaves a launch gap before it (perf-log step 108).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace convt1d::detail {

// dst[r * pitch + c] = src[r * length + c] for r < rows, c < length; elements of `elem` bytes (2 or 4).
// The pad columns [length, pitch) are left as they are. Calls allow_dependent_launch() at its start.
void pad_rows(const void* src, void* dst, int64_t rows, int64_t length, int64_t pitch, size_t elem,
              cudaStream_t stream);

// x [batch][channels][length] with its batch rows joined end to end (WgmmaTiling::joined_pitch):
// dst[c][b * pitch + l] = src[b][c][l] for l < length, and 0 for length <= l < pitch. Calls
// allow_dependent_launch() at its start.
void join_rows(const void* src, void* dst, int64_t batch, int64_t channels, int64_t length, int64_t pitch, size_t elem,
               cudaStream_t stream);

}  // namespace convt1d::detail
