// How much per-call workspace the library's memory pool keeps across synchronisations (host side, no CUDA).
//
// Some plans need a workspace for the length of one call (TF32's packed W^T and x^T, padded x rows, the
// streaming kernels' W^T image, split-K sums, the GEMM + col2im path's columns), taken in stream order from a
// pool. A pool that returns its memory at every synchronisation, as a device's default pool does, maps it
// again on the next call: with a synchronise after every call (a streaming decoder emitting each frame) a
// B = 1 vocoder layer took 145-170 us per call and synchronisation on an H100, 25-29 us with the memory kept
// (docs/perf-log.md step 190). The library's own pool keeps up to this many bytes reserved;
// CONVT1D_WORKSPACE_KEEP_MIB overrides it (0: release everything at each synchronisation, as the default
// pool did).
#pragma once

#include <cstdint>

namespace convt1d::detail {

constexpr int64_t kWorkspaceKeepDefaultMiB = 256;
constexpr const char* kWorkspaceKeepEnv = "CONVT1D_WORKSPACE_KEEP_MIB";

// The bytes to keep for the environment variable's value (nullptr: unset, the default). Fails with
// CONVT1D_INVALID_ARGUMENT, naming the variable, on anything but a whole number of MiB from 0 to 2^40.
int64_t workspace_keep_bytes(const char* env_value);

}  // namespace convt1d::detail
