// What the memory system allows for KernelBench #74's traffic: x (32, 32, 131072) read once and
// y (32, 64, 131084) written once, in fp32 and in 16-bit, with no arithmetic. Three access patterns:
//   contiguous - x read as one stream, y written as two (the fewest DRAM pages open at a time);
//   rows       - what a convolution must do: at each position front, all 32 x rows are read and all
//                64 y rows written (one thread per 16-byte (fp32) or 8-byte (16-bit) column, so the
//                y rows, 131084 elements long, stay aligned);
//   tiles      - what a convolution kernel does: persistent blocks take tiles of P positions of one batch
//                row, read the tile's 32 x rows into shared memory, then write its 64 y rows from there
//                (best over P and launch shapes: on the H100 P = 256-512 beats `rows`, most in 16-bit);
//   memcpy     - cudaMemcpyAsync device to device (equal reads and writes), the bench's "copy floor".
// The better of `rows` and `tiles` is the floor for any convolution kernel with this layout;
// docs/perf-log.md (steps 52, 92) compares the kernels with it.
//
// Build and run (any sm_80+ GPU): nvcc -O3 -arch=native -o io_floor bench/io_floor.cu && ./io_floor
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "standalone_check.cuh"

namespace {

constexpr int kBatch = 32, kCin = 32, kCout = 64;
constexpr int64_t kLin = 131072, kLout = 131084;
constexpr int kRepeats = 20;

// One thread per vector column of a batch row: loads the column's kCin vectors, stores kCout.
template <class V>
__global__ void rows_kernel(const V* __restrict__ x, V* __restrict__ y, int64_t in_vectors, int64_t out_vectors) {
  const int64_t n = kBatch * in_vectors;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < n; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t b = t / in_vectors, col = t % in_vectors;
    V v[kCin];
#pragma unroll
    for (int c = 0; c < kCin; ++c) v[c] = __ldg(x + (b * kCin + c) * in_vectors + col);
#pragma unroll
    for (int c = 0; c < kCout; ++c) y[(b * kCout + c) * out_vectors + col] = v[c % kCin];
  }
}

// Tiles of P positions: the tile's x rows (P * elem bytes each) into shared memory, then its y rows
// (y rows padded to 16 bytes here, +0.01 % bytes, so that every row piece is whole vectors).
template <int P, int kElem>
__global__ void tiles_kernel(const uint4* __restrict__ x, uint4* __restrict__ y, int64_t y_pitch_vectors) {
  extern __shared__ uint4 tile[];
  constexpr int kVectors = P * kElem / 16;  // per row of the tile
  constexpr int64_t kRowVectors = kLin * kElem / 16;
  const int64_t tiles_per_row = kLin / P, tiles = kBatch * tiles_per_row;
  for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
    const int64_t b = t / tiles_per_row, v0 = t % tiles_per_row * kVectors;
    for (int i = threadIdx.x; i < kCin * kVectors; i += blockDim.x)
      tile[i] = x[(b * kCin + i / kVectors) * kRowVectors + v0 + i % kVectors];
    __syncthreads();
    for (int i = threadIdx.x; i < kCout * kVectors; i += blockDim.x) {
      const int c = i / kVectors, v = i % kVectors;
      y[(b * kCout + c) * y_pitch_vectors + v0 + v] = tile[(c % kCin) * kVectors + v];
    }
    __syncthreads();
  }
}

// x read once as one stream; y written as two streams, each as long as x (y is twice x here).
__global__ void contiguous_kernel(const uint4* __restrict__ x, uint4* __restrict__ y, int64_t n) {
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < n; t += int64_t(gridDim.x) * blockDim.x) {
    const uint4 v = __ldg(x + t);
    y[t] = v;
    y[t + n] = v;
  }
}

template <class F>
float median_ms(F launch) {
  cudaEvent_t start, stop;
  CHECK(cudaEventCreate(&start));
  CHECK(cudaEventCreate(&stop));
  for (int i = 0; i < 3; ++i) launch();
  std::vector<float> ms;
  for (int i = 0; i < kRepeats; ++i) {
    CHECK(cudaEventRecord(start));
    launch();
    CHECK(cudaEventRecord(stop));
    CHECK(cudaEventSynchronize(stop));
    float t = 0;
    CHECK(cudaEventElapsedTime(&t, start, stop));
    ms.push_back(t);
  }
  CHECK(cudaGetLastError());
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// Best `rows` time over a few launch shapes, for elements of `elem` bytes moved as V.
template <class V>
float rows_ms(const void* x, void* y, int elem, int sms) {
  const int64_t in_vectors = kLin * elem / int64_t(sizeof(V)), out_vectors = kLout * elem / int64_t(sizeof(V));
  float best = 1e30f;
  for (int per_sm : {1, 2, 4, 8})
    for (int threads : {128, 256})
      best = std::min(best, median_ms([&] {
        rows_kernel<V><<<sms * per_sm, threads>>>(static_cast<const V*>(x), static_cast<V*>(y), in_vectors, out_vectors);
      }));
  return best;
}

template <int P, int kElem>
float tiles_ms_at(const void* x, void* y, int sms) {
  constexpr int kSmem = kCin * P * kElem;
  CHECK(cudaFuncSetAttribute(tiles_kernel<P, kElem>, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmem));
  const int64_t pitch = (kLout * kElem + 15) / 16;
  float best = 1e30f;
  for (int per_sm : {1, 2, 3, 4})
    for (int threads : {128, 256})
      if (per_sm * kSmem <= 200 * 1024)
        best = std::min(best, median_ms([&] {
          tiles_kernel<P, kElem><<<sms * per_sm, threads, kSmem>>>(static_cast<const uint4*>(x), static_cast<uint4*>(y),
                                                                   pitch);
        }));
  return best;
}

template <int kElem>
float tiles_ms(const void* x, void* y, int sms) {
  return std::min({tiles_ms_at<128, kElem>(x, y, sms), tiles_ms_at<256, kElem>(x, y, sms),
                   tiles_ms_at<512, kElem>(x, y, sms)});
}

}  // namespace

int main() {
  int sms = 0;
  CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  cudaDeviceProp prop{};
  CHECK(cudaGetDeviceProperties(&prop, 0));
  const size_t x_bytes = size_t(kBatch) * kCin * kLin * 4, y_bytes = size_t(kBatch) * kCout * kLout * 4;
  const size_t y_alloc = size_t(kBatch) * kCout * (kLout + 4) * 4;  // rows padded for `tiles`
  void *x = nullptr, *y = nullptr;
  CHECK(cudaMalloc(&x, x_bytes));
  CHECK(cudaMalloc(&y, y_alloc));
  CHECK(cudaMemset(x, 0, x_bytes));
  std::printf("%s, %d SMs\n", prop.name, sms);
  const float copy = median_ms([&] { CHECK(cudaMemcpyAsync(y, x, x_bytes, cudaMemcpyDeviceToDevice)); });
  const double copy_gbs = 2.0 * x_bytes / copy / 1e6;
  std::printf("memcpy: %.0f GB/s (reads + writes)\n\n", copy_gbs);
  std::printf("%-6s %10s %14s %12s %12s %12s\n", "dtype", "GB moved", "memcpy-rate ms", "contig ms", "rows ms",
              "tiles ms");
  for (int elem : {4, 2}) {
    const size_t xb = x_bytes / 4 * elem, yb = y_bytes / 4 * elem;
    const double gb = (xb + yb) / 1e9;
    const float contiguous = median_ms([&] {
      contiguous_kernel<<<sms * 8, 256>>>(static_cast<const uint4*>(x), static_cast<uint4*>(y), int64_t(xb / 16));
    });
    const float rows = elem == 4 ? rows_ms<uint4>(x, y, elem, sms) : rows_ms<uint2>(x, y, elem, sms);
    const float tiles = elem == 4 ? tiles_ms<4>(x, y, sms) : tiles_ms<2>(x, y, sms);
    std::printf("%-6s %10.3f %14.4f %12.4f %12.4f %12.4f\n", elem == 4 ? "fp32" : "16-bit", gb,
                gb / copy_gbs * 1e3, contiguous, rows, tiles);
  }
  CHECK(cudaFree(x));
  CHECK(cudaFree(y));
  return 0;
}
