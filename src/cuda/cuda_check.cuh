// Turns a failed CUDA runtime call or launch into ApiError(CONVT1D_CUDA_ERROR) with the call's name.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "problem.hpp"

namespace convt1d::detail {

inline void cuda_check(cudaError_t err, const char* what) {
  if (err != cudaSuccess)
    fail(CONVT1D_CUDA_ERROR, std::string("convt1d: ") + what + " failed: " + cudaGetErrorName(err) + " (" +
                                 cudaGetErrorString(err) + ")");
}

// After a <<<>>> launch: configuration errors surface here, not at the launch statement.
inline void cuda_check_launch(const char* kernel) { cuda_check(cudaGetLastError(), kernel); }

}  // namespace convt1d::detail
