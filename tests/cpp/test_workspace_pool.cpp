// The per-call workspaces' memory pool: how much it keeps across synchronisations (CONVT1D_WORKSPACE_KEEP_MIB,
// on the CPU), and on a GPU that a workspace outlives a synchronisation without coming from the device's
// default pool (docs/perf-log.md step 190: the default pool's release at every synchronisation cost ~120 us
// per call of a streaming decoder).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "convt1d/convt1d.h"
#include "gpu_buffer.hpp"
#include "problem.hpp"
#include "workspace_keep.hpp"

#ifdef CONVT1D_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace {

using convt1d::detail::ApiError;
using convt1d::detail::workspace_keep_bytes;

TEST(WorkspaceKeep, DefaultAndWholeMiB) {
  EXPECT_EQ(workspace_keep_bytes(nullptr), convt1d::detail::kWorkspaceKeepDefaultMiB << 20);
  EXPECT_EQ(workspace_keep_bytes("0"), 0);
  EXPECT_EQ(workspace_keep_bytes("64"), int64_t{64} << 20);
  EXPECT_EQ(workspace_keep_bytes("1099511627776"), int64_t{1} << 60);  // 2^40 MiB, the largest
}

TEST(WorkspaceKeep, AnythingElseFailsNamingTheVariable) {
  for (const char* bad : {"", "-1", "12x", " 5", "1.5", "64MiB", "1099511627777", "99999999999999999999999"}) {
    try {
      workspace_keep_bytes(bad);
      ADD_FAILURE() << "'" << bad << "' was accepted";
    } catch (const ApiError& e) {
      EXPECT_EQ(e.status, CONVT1D_INVALID_ARGUMENT) << bad;
      const std::string what = e.what();
      EXPECT_NE(what.find(convt1d::detail::kWorkspaceKeepEnv), std::string::npos) << what;
      EXPECT_NE(what.find(std::string("'") + bad + "'"), std::string::npos) << what;
    }
  }
}

#ifdef CONVT1D_WITH_CUDA
// The TF32 tap-major kernel packs x^T into a 64 MiB workspace for this layer; after two calls, each followed by
// a synchronisation, the library's pool still holds it, and the device's default pool served nothing.
TEST(WorkspacePool, KeepsTheWorkspaceAcrossSynchronisationsOutsideTheDefaultPool) {
  if (convt1d_cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device";
  int dev = 0, major = 0;
  ASSERT_EQ(cudaGetDevice(&dev), cudaSuccess);
  ASSERT_EQ(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev), cudaSuccess);
#ifndef CONVT1D_SM90A
  GTEST_SKIP() << "needs the TF32 wgmma kernel's x^T workspace: an sm_90a build";
#endif
  if (major != 9) GTEST_SKIP() << "needs the TF32 wgmma kernel's x^T workspace: an sm_90 device";
  if (std::getenv(convt1d::detail::kWorkspaceKeepEnv) != nullptr)
    GTEST_SKIP() << convt1d::detail::kWorkspaceKeepEnv << " is set";
  constexpr int64_t kLength = 65536, kIn = 256, kOut = 128, kTaps = 4;
  constexpr int64_t kWorkspace = kLength * kIn * 4;  // x^T, fp32: 64 MiB
  convt1d_problem p = convt1d_problem_init(1, kIn, kOut, kLength, kTaps);
  p.stride = 2;
  p.algorithm = CONVT1D_ALGO_WGMMA;
  int64_t out_length = 0;
  ASSERT_EQ(convt1d_output_length(&p, &out_length), CONVT1D_OK);
  convt1d::tools::GpuBuffer x(kIn * kLength * 4), w(kIn * kOut * kTaps * 4), y(kOut * out_length * 4);
  x.fill_bytes(0);
  w.fill_bytes(0);
  cudaMemPool_t default_pool = nullptr;
  ASSERT_EQ(cudaDeviceGetDefaultMemPool(&default_pool, dev), cudaSuccess);
  uint64_t zero = 0;
  ASSERT_EQ(cudaMemPoolSetAttribute(default_pool, cudaMemPoolAttrUsedMemHigh, &zero), cudaSuccess);
  convt1d::tools::gpu_synchronize();
  size_t free_before = 0, free_after = 0, total = 0;
  ASSERT_EQ(cudaMemGetInfo(&free_before, &total), cudaSuccess);
  for (int call = 0; call < 2; ++call) {
    ASSERT_EQ(convt1d_forward(&p, x.get(), w.get(), nullptr, y.get(), nullptr), CONVT1D_OK) << convt1d_last_error();
    convt1d::tools::gpu_synchronize();
  }
  ASSERT_EQ(cudaMemGetInfo(&free_after, &total), cudaSuccess);
  EXPECT_GE(static_cast<int64_t>(free_before) - static_cast<int64_t>(free_after), kWorkspace * 3 / 4)
      << "the x^T workspace went back at the synchronisation";
  uint64_t used_high = 1;
  ASSERT_EQ(cudaMemPoolGetAttribute(default_pool, cudaMemPoolAttrUsedMemHigh, &used_high), cudaSuccess);
  EXPECT_EQ(used_high, 0u) << "a workspace came from the device's default pool";
}
#endif

}  // namespace
