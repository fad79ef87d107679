// A call followed by a synchronisation, as a streaming decoder runs (each frame emitted before the next is
// decoded): host wall time of convt1d_forward + cudaStreamSynchronize per call, median and p90 of 200, on
// B = 1 layers of the suite with a per-call workspace (S23, S2 TF32; S1 bf16, whose rows of 87 are padded)
// and one without (S21). What it showed (docs/perf-log.md step 190, H100): with the workspace taken from a
// pool that releases its memory at every synchronisation, 145-170 us per call; from the library's pool,
// which keeps it, 25-29 us. `CONVT1D_WORKSPACE_KEEP_MIB=0 ./sync_per_call` shows the former again.
//
// Build against the library (any CUDA GPU; the workspaces above are the Hopper kernels'), one line:
//   g++ -O2 -std=c++17 -Iinclude -I/usr/local/cuda/include bench/sync_per_call.cpp -Lbuild -lconvt1d
//   -L/usr/local/cuda/lib64 -lcudart -o sync_per_call && LD_LIBRARY_PATH=build ./sync_per_call
#include <convt1d/convt1d.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace {

constexpr int kWarmup = 20;
constexpr int kCalls = 200;

struct Layer {
  const char* name;
  int64_t batch, in_channels, out_channels, length, kernel_size, stride, padding, groups;
  int32_t dtype;
};

bool ok(cudaError_t e, const char* what) {
  if (e != cudaSuccess) std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(e));
  return e == cudaSuccess;
}

}  // namespace

int main() {
  const Layer layers[] = {{"S23 tf32", 1, 128, 64, 480, 8, 4, 0, 1, CONVT1D_FLOAT32},
                          {"S2 tf32", 1, 256, 128, 696, 16, 8, 4, 1, CONVT1D_FLOAT32},
                          {"S1 bf16", 1, 512, 256, 87, 16, 8, 4, 1, CONVT1D_BFLOAT16},
                          {"S21 bf16", 1, 512, 512, 1, 4, 2, 0, 512, CONVT1D_BFLOAT16}};
  cudaStream_t stream;
  if (!ok(cudaStreamCreate(&stream), "cudaStreamCreate")) return 1;
  for (const Layer& l : layers) {
    convt1d_problem p = convt1d_problem_init(l.batch, l.in_channels, l.out_channels, l.length, l.kernel_size);
    p.stride = l.stride;
    p.padding = l.padding;
    p.groups = l.groups;
    p.dtype = l.dtype;
    int64_t out_length = 0;
    if (convt1d_output_length(&p, &out_length) != CONVT1D_OK) {
      std::fprintf(stderr, "%s: %s\n", l.name, convt1d_last_error());
      return 1;
    }
    const size_t elem = l.dtype == CONVT1D_FLOAT32 ? 4 : 2;
    const size_t x_bytes = l.batch * l.in_channels * l.length * elem;
    const size_t w_bytes = l.in_channels * (l.out_channels / l.groups) * l.kernel_size * elem;
    const size_t y_bytes = l.batch * l.out_channels * out_length * elem;
    void *x = nullptr, *w = nullptr, *y = nullptr;
    if (!ok(cudaMalloc(&x, x_bytes), "cudaMalloc") || !ok(cudaMalloc(&w, w_bytes), "cudaMalloc") ||
        !ok(cudaMalloc(&y, y_bytes), "cudaMalloc") || !ok(cudaMemset(x, 0, x_bytes), "cudaMemset") ||
        !ok(cudaMemset(w, 0, w_bytes), "cudaMemset"))
      return 1;
    std::vector<double> us;
    for (int i = 0; i < kWarmup + kCalls; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      if (convt1d_forward(&p, x, w, nullptr, y, stream) != CONVT1D_OK) {
        std::fprintf(stderr, "%s: %s\n", l.name, convt1d_last_error());
        return 1;
      }
      if (!ok(cudaStreamSynchronize(stream), "cudaStreamSynchronize")) return 1;
      const auto t1 = std::chrono::steady_clock::now();
      if (i >= kWarmup) us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    std::sort(us.begin(), us.end());
    std::printf("%-9s call + synchronise: median %6.1f us, p90 %6.1f us\n", l.name, us[us.size() / 2],
                us[us.size() * 9 / 10]);
    cudaFree(x);
    cudaFree(w);
    cudaFree(y);
  }
  cudaStreamDestroy(stream);
  return 0;
}
