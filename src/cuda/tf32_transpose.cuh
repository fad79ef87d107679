// The TF32 wgmma kernels' per-call operand packing: out[b][l][ci_pitch] = tf32(in[b][ci][l]), channels
// past `channels` zero. W^T is the case batch 1, length C_out*K; x^T the case of x itself.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace convt1d::detail {

void transpose_to_tf32(const float* in, float* out, int64_t batch, int64_t channels, int64_t length, int64_t ci_pitch,
                       cudaStream_t stream, const char* what);

}  // namespace convt1d::detail
