// How much of the DRAM bandwidth a few SMs can move with TMA bulk copies: each of G blocks (one per SM)
// copies its share of 1 GiB in 16 KB pieces, global -> shared memory -> global
// (cp.async.bulk, one thread issuing), with S pieces in flight, against cudaMemcpyAsync on the same
// bytes. The question it answers (perf-log steps 147, 149): whether a per-call operand packing could
// run on a fraction of the SMs beside the GEMM that waits for it, instead of on all of them before it.
// Step 147's packing by loads and stores through registers (16 KB per thread group in flight) moved
// ~40 GB/s per SM: a third of the SMs took ~3x as long as all of them.
//
// Build and run (sm_90): nvcc -O3 -arch=sm_90a -o bulk_copy_floor bench/bulk_copy_floor.cu && ./bulk_copy_floor
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "standalone_check.cuh"

namespace {

constexpr int kPiece = 16384;      // bytes per bulk copy
constexpr int kMaxStages = 12;     // pieces in flight per block: 192 KB of shared memory
constexpr int kRepeats = 3;
constexpr int64_t kBytes = int64_t{1} << 30;

__device__ __forceinline__ uint32_t smem_addr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// Block b copies pieces b, b + G, ...: `stages` loads in flight, each piece stored back from shared
// memory as soon as it lands; a stage is reloaded once the store before the newest has read it.
__global__ void bulk_copy_kernel(const char* __restrict__ src, char* __restrict__ dst, int64_t pieces, int stages) {
  extern __shared__ __align__(128) char buffer[];
  __shared__ __align__(8) uint64_t full[kMaxStages];
  if (threadIdx.x != 0) return;
  for (int s = 0; s < stages; ++s) asm volatile("mbarrier.init.shared.b64 [%0], 1;" ::"r"(smem_addr(&full[s])));
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  const int64_t n = (pieces - blockIdx.x + gridDim.x - 1) / gridDim.x;  // this block's pieces
  const auto load = [&](int64_t j) {
    const int s = static_cast<int>(j % stages);
    const int64_t g = blockIdx.x + j * gridDim.x;
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(smem_addr(&full[s])), "r"(kPiece)
                 : "memory");
    asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::"r"(
                     smem_addr(buffer + s * kPiece)),
                 "l"(src + g * kPiece), "r"(kPiece), "r"(smem_addr(&full[s]))
                 : "memory");
  };
  for (int64_t j = 0; j < n && j < stages; ++j) load(j);
  for (int64_t j = 0; j < n; ++j) {
    const int s = static_cast<int>(j % stages);
    const uint32_t parity = static_cast<uint32_t>(j / stages) & 1;
    uint32_t done = 0;
    do {
      asm volatile("{ .reg .pred p; mbarrier.try_wait.parity.shared.b64 p, [%1], %2; selp.u32 %0, 1, 0, p; }"
                   : "=r"(done)
                   : "r"(smem_addr(&full[s])), "r"(parity)
                   : "memory");
    } while (!done);
    asm volatile("cp.async.bulk.global.shared::cta.bulk_group [%0], [%1], %2;" ::"l"(dst + (blockIdx.x + j * gridDim.x) *
                                                                                         int64_t{kPiece}),
                 "r"(smem_addr(buffer + s * kPiece)), "r"(kPiece)
                 : "memory");
    asm volatile("cp.async.bulk.commit_group;" ::: "memory");
    if (j >= 1 && j - 1 + stages < n) {
      asm volatile("cp.async.bulk.wait_group.read 1;" ::: "memory");  // the previous piece's store has read it
      load(j - 1 + stages);
    }
  }
  asm volatile("cp.async.bulk.wait_group 0;" ::: "memory");
}

// GB/s (reads + writes) of `launch` run kRepeats times after one warm-up.
template <class F>
double rate(F launch) {
  cudaEvent_t e0, e1;
  CHECK(cudaEventCreate(&e0));
  CHECK(cudaEventCreate(&e1));
  launch();
  CHECK(cudaEventRecord(e0));
  for (int r = 0; r < kRepeats; ++r) launch();
  CHECK(cudaEventRecord(e1));
  CHECK(cudaEventSynchronize(e1));
  float ms = 0.0f;
  CHECK(cudaEventElapsedTime(&ms, e0, e1));
  CHECK(cudaEventDestroy(e0));
  CHECK(cudaEventDestroy(e1));
  return 2.0 * kBytes * kRepeats / (ms * 1e6);
}

}  // namespace

int main() {
  const int64_t pieces = kBytes / kPiece;
  char *a = nullptr, *b = nullptr;
  CHECK(cudaMalloc(&a, kBytes));
  CHECK(cudaMalloc(&b, kBytes));
  CHECK(cudaMemset(a, 1, kBytes));
  CHECK(cudaFuncSetAttribute(bulk_copy_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kMaxStages * kPiece));
  int sms = 0;
  CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  std::printf("memcpy: %.0f GB/s (reads + writes)\n",
              rate([&] { CHECK(cudaMemcpyAsync(b, a, kBytes, cudaMemcpyDeviceToDevice)); }));
  const std::vector<int> grids = {sms / 8, sms / 6, sms / 4, sms / 3, sms / 2, sms};
  for (int stages : {4, 8, kMaxStages}) {
    std::printf("%2d pieces (%3d KB) in flight per SM:", stages, stages * kPiece / 1024);
    for (int g : grids)
      std::printf("  %3d SMs %5.0f GB/s", g, rate([&] {
                    bulk_copy_kernel<<<g, 32, stages * kPiece>>>(a, b, pieces, stages);
                    CHECK(cudaGetLastError());
                  }));
    std::printf("\n");
  }
  CHECK(cudaDeviceSynchronize());
  std::vector<char> tail(4096);
  CHECK(cudaMemcpy(tail.data(), b + kBytes - 4096, 4096, cudaMemcpyDeviceToHost));
  int wrong = 0;
  for (char c : tail) wrong += c != 1;
  std::printf("check: %d wrong bytes in the copy's last 4096\n", wrong);
  CHECK(cudaFree(a));
  CHECK(cudaFree(b));
  return wrong == 0 ? 0 : 1;
}
