// The TF32 wgmma kernels' per-call operand packing: out[b][l][ci_pitch] = tf32(in[b][ci][l]), channels
// past `channels` zero. W^T is the case batch 1, length C_out*K; x^T the case of x itself.
// `split` (IEEE fp32 as 3xTF32): each 32-channel chunk c takes 64 columns, the tf32 big parts at
// 64c..64c+31 and the tf32 rounding of what they leave (v - big) at 64c+32..64c+63.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace convt1d::detail {

struct TransposeJob {
  const float* in;
  float* out;
  int64_t batch, channels, length, ci_pitch;
  bool split = false;
  // W^T for the register epilogue at strides below 8 (WgmmaTiling::tap_pairs): output row tap_pair_row(l,
  // log2 of this) holds input position l, in groups of kTapPairRows whole ones (length a multiple). 0:
  // rows in order.
  int32_t tap_pair_stride = 0;
};

// The packed output's 32-channel chunks per row (each 64 columns when split).
constexpr int kTransposeChunkChannels = 32;
inline int64_t packed_chunks(const TransposeJob& j) {
  return j.ci_pitch / (j.split ? 2 * kTransposeChunkChannels : kTransposeChunkChannels);
}

// log2 of j.tap_pair_stride, -1 for rows in order; fails on a stride or row count it cannot regroup.
int32_t tap_pair_shift(const TransposeJob& j);

// Packs every job (at most kMaxTransposeJobs: W^T and x^T) in one launch.
constexpr int kMaxTransposeJobs = 2;
void transpose_to_tf32(const TransposeJob* jobs, int count, cudaStream_t stream, const char* what);

}  // namespace convt1d::detail
