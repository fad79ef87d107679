// Marks plain C++ that both the kernels and the CPU tests run.
#pragma once

#if defined(__CUDACC__)
#define CONVT1D_HOST_DEVICE __host__ __device__
#else
#define CONVT1D_HOST_DEVICE
#endif
