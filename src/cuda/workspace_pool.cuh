// The memory pool of the per-call workspaces (StreamBuffer), one per device: created on the device's first
// workspace and kept for the process, with a release threshold of workspace_keep_bytes (workspace_keep.hpp)
// so that a synchronisation between calls does not hand its memory back to be mapped again by the next call.
// The device's default pool, which applications and other libraries may tune for themselves, is left alone.
#pragma once

#include <cuda_runtime.h>

namespace convt1d::detail {

cudaMemPool_t workspace_pool(int device);

}  // namespace convt1d::detail
