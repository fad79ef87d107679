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

// One warp per row of dst (channel c, batch row b), in units U of one or more elements: the row's
// division is all the index arithmetic, and the units are as wide as the row lengths and the pointers
// allow (rows of 300 joined at a pitch of 302: 4 bytes).
template <class U>
__global__ void __launch_bounds__(kThreads) join_rows_kernel(const U* __restrict__ src, U* __restrict__ dst,
                                                             uint32_t rows, uint32_t batch, uint32_t channels,
                                                             uint32_t length, uint32_t pitch) {
  allow_dependent_launch();  // (as pad_rows_kernel)
  constexpr uint32_t kWarps = kThreads / 32;
  const uint32_t lane = threadIdx.x % 32;
  for (uint32_t r = blockIdx.x * kWarps + threadIdx.x / 32; r < rows; r += gridDim.x * kWarps) {
    const uint32_t c = r / batch, b = r - c * batch;
    const U* s = src + (size_t(b) * channels + c) * length;
    U* d = dst + size_t(r) * pitch;
    for (uint32_t i = lane; i < pitch; i += 32) d[i] = i < length ? s[i] : U{};
  }
}

template <class U>
void launch_join(const void* src, void* dst, int64_t batch, int64_t channels, int64_t length, int64_t pitch,
                 cudaStream_t stream) {
  constexpr int64_t kRowsPerBlock = kThreads / 32;
  const int64_t rows = batch * channels;
  const auto blocks = static_cast<unsigned>(std::min<int64_t>((rows + kRowsPerBlock - 1) / kRowsPerBlock, kMaxBlocks));
  join_rows_kernel<U><<<blocks, kThreads, 0, stream>>>(
      static_cast<const U*>(src), static_cast<U*>(dst), static_cast<uint32_t>(rows), static_cast<uint32_t>(batch),
      static_cast<uint32_t>(channels), static_cast<uint32_t>(length), static_cast<uint32_t>(pitch));
}

}  // namespace

void join_rows(const void* src, void* dst, int64_t batch, int64_t channels, int64_t length, int64_t pitch, size_t elem,
               cudaStream_t stream) {
  if (batch <= 0 || channels <= 0 || length <= 0) return;
  if (elem != 2 && elem != 4)
    fail(CONVT1D_INTERNAL_ERROR, "convt1d: join_rows takes 2- or 4-byte elements, got " + std::to_string(elem));
  if (pitch < length || batch * channels > std::numeric_limits<uint32_t>::max())
    fail(CONVT1D_INTERNAL_ERROR, "convt1d: join_rows needs pitch >= length and at most 2^32 rows, got pitch " +
                                     std::to_string(pitch) + ", length " + std::to_string(length) + ", " +
                                     std::to_string(batch * channels) + " rows");
  // The widest unit that divides both row lengths and both pointers' alignment.
  const auto fits = [&](size_t unit) {
    return length * elem % unit == 0 && pitch * elem % unit == 0 && reinterpret_cast<uintptr_t>(src) % unit == 0 &&
           reinterpret_cast<uintptr_t>(dst) % unit == 0;
  };
  const auto units = [&](size_t unit) { return static_cast<int64_t>(unit / elem); };
  if (fits(16))
    launch_join<uint4>(src, dst, batch, channels, length / units(16), pitch / units(16), stream);
  else if (fits(8))
    launch_join<uint2>(src, dst, batch, channels, length / units(8), pitch / units(8), stream);
  else if (fits(4))
    launch_join<uint32_t>(src, dst, batch, channels, length / units(4), pitch / units(4), stream);
  else
    launch_join<uint16_t>(src, dst, batch, channels, length, pitch, stream);
  cuda_check_launch("join_rows_kernel launch (joined x)");
}

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
