// The Hopper (sm_90a) instructions of the wgmma kernel: TMA tensor loads that complete on an
// mbarrier's transaction count, wgmma's matrix descriptors and its fence / commit / wait.
// Everything is compiled only for sm_90a; the kernel traps elsewhere (the planner never sends it there).
#pragma once

#include <cuda.h>

#include <cstdint>

#include "cuda/ptx.cuh"

namespace convt1d::detail::hopper {

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define CONVT1D_SM90A_DEVICE 1
#endif
// The Hopper kernels' bodies compile only in the sm_90a pass: in the device passes for other
// architectures their helpers (constants, fragment loaders) are declared and never referenced, which is
// expected, not a defect.
#if defined(__CUDA_ARCH__) && !defined(CONVT1D_SM90A_DEVICE)
#pragma nv_diag_suppress 177
#endif

using ptx::smem_addr;

// Swizzle modes as wgmma descriptors encode them (bits 62-63).
enum class Swizzle : uint64_t { B128 = 1, B64 = 2, B32 = 3 };

// A shared-memory matrix descriptor. For MN-major swizzled operands (the only kind used here):
// `lbo` is the byte distance between atoms along M/N (one atom = swizzle-width bytes of M/N by
// 8 rows of the reduction), `sbo` between groups of 8 reduction rows. Addresses and offsets are
// stored in 16-byte units, 14 bits each.
__device__ __forceinline__ uint64_t matrix_desc(uint32_t addr, uint32_t lbo, uint32_t sbo, Swizzle swizzle) {
  return uint64_t((addr >> 4) & 0x3FFF) | (uint64_t((lbo >> 4) & 0x3FFF) << 16) |
         (uint64_t((sbo >> 4) & 0x3FFF) << 32) | (static_cast<uint64_t>(swizzle) << 62);
}

__device__ __forceinline__ void mbar_arrive_expect_tx(uint64_t* bar, uint32_t bytes) {
#ifdef CONVT1D_SM90A_DEVICE
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(smem_addr(bar)), "r"(bytes)
               : "memory");
#endif
}

// Adds `bytes` to the transactions the barrier's current phase waits for, without arriving: for copies
// into one phase issued by several threads, each arming its own before one arrival completes the count.
__device__ __forceinline__ void mbar_expect_tx(uint64_t* bar, uint32_t bytes) {
#ifdef CONVT1D_SM90A_DEVICE
  asm volatile("mbarrier.expect_tx.relaxed.cta.shared::cta.b64 [%0], %1;\n" ::"r"(smem_addr(bar)), "r"(bytes) : "memory");
#endif
}

// Makes the mbarrier initialisation visible to the TMA unit (the async proxy).
__device__ __forceinline__ void fence_barrier_init() {
#ifdef CONVT1D_SM90A_DEVICE
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
}

// Orders this thread's generic shared-memory accesses after its async-proxy ones (wgmma operand reads,
// TMA writes): needed before generic stores reuse memory the async proxy has been using.
__device__ __forceinline__ void fence_proxy_async() {
#ifdef CONVT1D_SM90A_DEVICE
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
}

// Byte offset of fp32 element (row, column) in a tile of 128-byte rows that TMA wrote (or reads) with the
// 128B swizzle (a 1024-byte aligned buffer): the row's 16-byte chunks XORed with row mod 8.
__device__ __forceinline__ uint32_t swizzled_128b(uint32_t row, uint32_t column) {
  constexpr uint32_t kRowBytes = 128;
  return row * kRowBytes + ((((column / 4) ^ (row % 8)) * 16) | (column % 4) * 4);
}

// Tensor tile loads: the box at the given element coordinates (out-of-bounds elements read as zero)
// into shared memory, completing `bytes` of the barrier's transaction count.
__device__ __forceinline__ void tma_load_2d(void* dst, const CUtensorMap* map, int32_t c0, int32_t c1, uint64_t* bar) {
#ifdef CONVT1D_SM90A_DEVICE
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n" ::
          "r"(smem_addr(dst)),
      "l"(map), "r"(c0), "r"(c1), "r"(smem_addr(bar))
      : "memory");
#endif
}
// A bulk copy without a tensor map: `bytes` (a multiple of 16) from global `src` to shared `dst`, both
// 16-byte aligned, completing `bytes` of the barrier's transaction count. No bounds, no zero fill.
__device__ __forceinline__ void bulk_load(void* dst, const void* src, uint32_t bytes, uint64_t* bar) {
#ifdef CONVT1D_SM90A_DEVICE
  asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n" ::"r"(
                   smem_addr(dst)),
               "l"(src), "r"(bytes), "r"(smem_addr(bar))
               : "memory");
#endif
}
__device__ __forceinline__ void tma_load_3d(void* dst, const CUtensorMap* map, int32_t c0, int32_t c1, int32_t c2,
                                            uint64_t* bar) {
#ifdef CONVT1D_SM90A_DEVICE
  asm volatile(
      "cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, %4}], [%5];\n" ::
          "r"(smem_addr(dst)),
      "l"(map), "r"(c0), "r"(c1), "r"(c2), "r"(smem_addr(bar))
      : "memory");
#endif
}

// Thread-block clusters. Every non-exited thread of every CTA of the cluster: a barrier that also
// orders shared-memory accesses across the cluster (barrier initialisation before the peers' remote
// arrivals; remote arrivals before a CTA exits).
__device__ __forceinline__ void cluster_sync() {
#ifdef CONVT1D_SM90A_DEVICE
  asm volatile("barrier.cluster.arrive.release;\nbarrier.cluster.wait.acquire;\n" ::: "memory");
#endif
}
// Arrives on the mbarrier at `bar`'s shared-memory offset in CTA `rank` of the cluster, ordering
// nothing: for barriers that pace blocks, not ones that hand data over.
__device__ __forceinline__ void mbar_arrive_peer_relaxed(uint64_t* bar, uint32_t rank) {
#ifdef CONVT1D_SM90A_DEVICE
  asm volatile(
      "{\n .reg .b32 remote;\n mapa.shared::cluster.u32 remote, %0, %1;\n"
      " mbarrier.arrive.relaxed.cluster.shared::cluster.b64 _, [remote];\n}\n" ::"r"(smem_addr(bar)),
      "r"(rank)
      : "memory");
#endif
}

// Before the first wgmma that reads accumulators other instructions wrote.
__device__ __forceinline__ void wgmma_fence() {
#ifdef CONVT1D_SM90A_DEVICE
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void wgmma_commit() {
#ifdef CONVT1D_SM90A_DEVICE
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
#endif
}
// Waits until at most `kPending` committed wgmma groups of this thread are still running.
template <int kPending>
__device__ __forceinline__ void wgmma_wait() {
#ifdef CONVT1D_SM90A_DEVICE
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(kPending) : "memory");
#endif
}
// Four 8 x 8 matrices of 16-bit pairs, each held as mma fragments (lane l: row l / 4, columns 2 (l % 4), + 1 in
// register i for matrix i), stored transposed: lane l gives the shared address of row l % 8 of matrix l / 8, which
// receives that matrix's column l % 8 as 16 contiguous bytes.
__device__ __forceinline__ void stmatrix_x4_trans(uint32_t row_addr, uint32_t r0, uint32_t r1, uint32_t r2,
                                                  uint32_t r3) {
#ifdef CONVT1D_SM90A_DEVICE
  asm volatile("stmatrix.sync.aligned.m8n8.x4.trans.shared.b16 [%0], {%1, %2, %3, %4};\n" ::"r"(row_addr), "r"(r0),
               "r"(r1), "r"(r2), "r"(r3)
               : "memory");
#endif
}
// Keeps the compiler from moving accumulator reads or writes across an asynchronous wgmma.
__device__ __forceinline__ void fence_operand(float& r) { asm volatile("" : "+f"(r)::"memory"); }

// A warpgroup's registers per thread from here on (every thread of the warpgroup runs it): a producer
// lowers its count so that its consumers can raise theirs past the launch's even share. ptxas compiles
// the code after each to that count (it needs __launch_bounds__ with a minimum of blocks to know the
// count at entry).
template <int kRegisters>
__device__ __forceinline__ void release_registers() {
#ifdef CONVT1D_SM90A_DEVICE
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(kRegisters));
#endif
}
template <int kRegisters>
__device__ __forceinline__ void claim_registers() {
#ifdef CONVT1D_SM90A_DEVICE
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(kRegisters));
#endif
}

}  // namespace convt1d::detail::hopper
