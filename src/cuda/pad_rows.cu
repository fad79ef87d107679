#include "cuda/pad_rows.cuh"

#include <algorithm>
#include <limits>
#include <string>

#include "cuda/cuda_check.cuh"
#include "cuda/dependent_launch.cuh"

namespace convt1d::detail {

namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 4096;  // a grid-stride loop beyond this: a few waves of every SM

// Element i of src (row i / length) to its place in dst. 32-bit indices where the copy fits them (the
// division is then a few instructions, not a 64-bit call).
template <class U, class I>
__global__ void __launch_bounds__(kThreads) pad_rows_kernel(const U* __restrict__ src, U* __restrict__ dst,
                                                            I total, I length, I pitch) {
  allow_dependent_launch();  // the wgmma kernel may set up now; it waits for this grid before its loads
  const I step = static_cast<I>(gridDim.x) * kThreads;
  for (I i = static_cast<I>(blockIdx.x) * kThreads + threadIdx.x; i < total; i += step) {
    const I r = i / length;
    dst[r * pitch + (i - r * length)] = src[i];
  }
}

template <class U>
void launch(const void* src, void* dst, int64_t rows, int64_t length, int64_t pitch, cudaStream_t stream) {
  const int64_t total = rows * length;
  const auto blocks = static_cast<unsigned>(std::min<int64_t>((total + kThreads - 1) / kThreads, kMaxBlocks));
  const auto* s = static_cast<const U*>(src);
  auto* d = static_cast<U*>(dst);
  if (rows * pitch <= std::numeric_limits<uint32_t>::max() - int64_t{kThreads} * kMaxBlocks)
    pad_rows_kernel<U, uint32_t><<<blocks, kThreads, 0, stream>>>(s, d, static_cast<uint32_t>(total),
                                                                  static_cast<uint32_t>(length),
                                                                  static_cast<uint32_t>(pitch));
  else
    pad_rows_kernel<U, uint64_t><<<blocks, kThreads, 0, stream>>>(s, d, static_cast<uint64_t>(total),
                                                                  static_cast<uint64_t>(length),
                                                                  static_cast<uint64_t>(pitch));
}

}  // namespace

void pad_rows(const void* src, void* dst, int64_t rows, int64_t length, int64_t pitch, size_t elem,
              cudaStream_t stream) {
  if (rows <= 0 || length <= 0) return;
  if (pitch < length)
    fail(CONVT1D_INTERNAL_ERROR, "convt1d: pad_rows needs pitch >= length, got " + std::to_string(pitch) + " < " +
                                     std::to_string(length));
  if (elem == 2)
    launch<uint16_t>(src, dst, rows, length, pitch, stream);
  else if (elem == 4)
    launch<uint32_t>(src, dst, rows, length, pitch, stream);
  else
    fail(CONVT1D_INTERNAL_ERROR, "convt1d: pad_rows takes 2- or 4-byte elements, got " + std::to_string(elem));
  cuda_check_launch("pad_rows_kernel launch (padded x)");
}

}  // namespace convt1d::detail
