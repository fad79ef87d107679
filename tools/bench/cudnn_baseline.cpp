#include "bench/cudnn_baseline.hpp"

#include <cudnn.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "gpu_buffer.hpp"
#include "problem.hpp"

namespace convt1d::bench {

namespace {

void ok(cudnnStatus_t st, const char* what) {
  if (st != CUDNN_STATUS_SUCCESS) {
    throw std::runtime_error(std::string("cuDNN ") + what + ": " + cudnnGetErrorString(st));
  }
}

cudnnDataType_t data_type(int32_t dtype) {
  switch (dtype) {
    case CONVT1D_FLOAT16: return CUDNN_DATA_HALF;
    case CONVT1D_BFLOAT16: return CUDNN_DATA_BFLOAT16;
    default: return CUDNN_DATA_FLOAT;
  }
}

const char* math_name(cudnnMathType_t m) {
  switch (m) {
    case CUDNN_DEFAULT_MATH: return "default math";
    case CUDNN_TENSOR_OP_MATH: return "tensor-op math";
    case CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION: return "tensor-op math with conversion";
    case CUDNN_FMA_MATH: return "FMA math";
  }
  return "? math";
}

std::string choice_name(int algo, cudnnMathType_t math, std::size_t workspace) {
  std::ostringstream os;
  os.precision(3);
  os << "ALGO_" << algo << " (" << math_name(math) << ", " << workspace / 1048576.0 << " MiB)";
  return os.str();
}

// Largest divisor of batch whose chunk keeps every tensor within INT_MAX elements.
int64_t batch_chunk(const detail::Shape& s) {
  const int64_t per_sample = std::max(s.in_channels * s.in_length, s.out_channels * s.out_length);
  if (per_sample > INT_MAX) throw std::runtime_error("cuDNN: one sample has more than INT_MAX elements");
  const int64_t limit = std::max<int64_t>(1, INT_MAX / per_sample);
  for (int64_t c = std::min(s.batch, limit); c >= 1; --c) {
    if (s.batch % c == 0) return c;
  }
  return 1;
}

}  // namespace

struct CudnnBaseline::Impl {
  convt1d_problem p{};
  detail::Shape s{};
  int64_t chunk = 1;
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
  cudnnMathType_t base_math = CUDNN_DEFAULT_MATH;
  cudnnHandle_t handle = nullptr;
  cudnnTensorDescriptor_t dy = nullptr, dx = nullptr, bias = nullptr;
  cudnnFilterDescriptor_t filter = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  tools::GpuBuffer workspace;

  ~Impl() {
    if (conv) cudnnDestroyConvolutionDescriptor(conv);
    if (filter) cudnnDestroyFilterDescriptor(filter);
    if (bias) cudnnDestroyTensorDescriptor(bias);
    if (dx) cudnnDestroyTensorDescriptor(dx);
    if (dy) cudnnDestroyTensorDescriptor(dy);
    if (handle) cudnnDestroy(handle);
  }

  void ensure_workspace(std::size_t bytes) {
    if (workspace.bytes() < bytes) {
      workspace = tools::GpuBuffer();  // free first so old + new need not fit together
      workspace = tools::GpuBuffer(bytes);
    }
  }
};

CudnnBaseline::CudnnBaseline(const convt1d_problem& p) : impl_(new Impl) {
  Impl& m = *impl_;
  m.p = p;
  m.s = detail::shape_of(p);
  m.chunk = batch_chunk(m.s);
  m.type = data_type(p.dtype);
  ok(cudnnCreate(&m.handle), "cudnnCreate");
  ok(cudnnSetStream(m.handle, nullptr), "cudnnSetStream");
  ok(cudnnCreateTensorDescriptor(&m.dy), "cudnnCreateTensorDescriptor");
  ok(cudnnCreateTensorDescriptor(&m.dx), "cudnnCreateTensorDescriptor");
  ok(cudnnCreateTensorDescriptor(&m.bias), "cudnnCreateTensorDescriptor");
  ok(cudnnCreateFilterDescriptor(&m.filter), "cudnnCreateFilterDescriptor");
  ok(cudnnCreateConvolutionDescriptor(&m.conv), "cudnnCreateConvolutionDescriptor");

  const int n = static_cast<int>(m.chunk);
  ok(cudnnSetTensor4dDescriptor(m.dy, CUDNN_TENSOR_NCHW, m.type, n, static_cast<int>(m.s.in_channels), 1,
                                static_cast<int>(m.s.in_length)),
     "dy (x) descriptor");
  ok(cudnnSetTensor4dDescriptor(m.dx, CUDNN_TENSOR_NCHW, m.type, n, static_cast<int>(m.s.out_channels), 1,
                                static_cast<int>(m.s.out_length)),
     "dx (y) descriptor");
  ok(cudnnSetTensor4dDescriptor(m.bias, CUDNN_TENSOR_NCHW, m.type, 1, static_cast<int>(m.s.out_channels), 1, 1),
     "bias descriptor");
  ok(cudnnSetFilter4dDescriptor(m.filter, m.type, CUDNN_TENSOR_NCHW, static_cast<int>(m.s.in_channels),
                                static_cast<int>(m.s.out_per_group), 1, static_cast<int>(m.s.kernel_size)),
     "filter descriptor");
  ok(cudnnSetConvolution2dDescriptor(m.conv, 0, static_cast<int>(m.s.padding), 1, static_cast<int>(m.s.stride), 1,
                                     static_cast<int>(m.s.dilation), CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
     "convolution descriptor");
  ok(cudnnSetConvolutionGroupCount(m.conv, static_cast<int>(m.s.groups)), "cudnnSetConvolutionGroupCount");
  // fp16 as PyTorch's legacy path sets it; bf16 too, because with default math the legacy API picks
  // non-tensor-core algorithms for bf16 (59 ms on KB74 where PyTorch's cuDNN path takes 1.26 ms), which
  // would make a straw-man baseline.
  if (m.type == CUDNN_DATA_HALF || m.type == CUDNN_DATA_BFLOAT16) {
    m.base_math = CUDNN_TENSOR_OP_MATH;
  } else if (m.type == CUDNN_DATA_FLOAT && p.math == CONVT1D_MATH_IEEE) {
    m.base_math = CUDNN_FMA_MATH;
  }
  ok(cudnnSetConvolutionMathType(m.conv, m.base_math), "cudnnSetConvolutionMathType");
}

CudnnBaseline::~CudnnBaseline() = default;

CudnnChoice CudnnBaseline::heuristic() {
  Impl& m = *impl_;
  ok(cudnnSetConvolutionMathType(m.conv, m.base_math), "cudnnSetConvolutionMathType");
  int max_count = 0;
  ok(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(m.handle, &max_count), "algorithm count");
  std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(static_cast<std::size_t>(max_count));
  int returned = 0;
  ok(cudnnGetConvolutionBackwardDataAlgorithm_v7(m.handle, m.filter, m.dy, m.conv, m.dx, max_count, &returned,
                                                 perf.data()),
     "cudnnGetConvolutionBackwardDataAlgorithm_v7");
  std::string tried;
  for (int i = 0; i < returned; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
    try {
      m.ensure_workspace(perf[i].memory);
    } catch (const std::exception& e) {
      cudaGetLastError();  // an out-of-memory is not sticky; move on as ATen does
      tried += " ALGO_" + std::to_string(perf[i].algo) + " (workspace: " + e.what() + ")";
      continue;
    }
    return {perf[i].algo, perf[i].mathType, perf[i].memory, choice_name(perf[i].algo, perf[i].mathType, perf[i].memory)};
  }
  throw std::runtime_error("cuDNN heuristics offered no usable algorithm" + tried);
}

CudnnChoice CudnnBaseline::fastest(const void* x, const void* w, void* y) {
  Impl& m = *impl_;
  ok(cudnnSetConvolutionMathType(m.conv, m.base_math), "cudnnSetConvolutionMathType");
  int max_count = 0;
  ok(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(m.handle, &max_count), "algorithm count");
  // Offer the largest workspace any algorithm asks for, within what the device has free.
  std::size_t want = 0;
  for (int a = 0; a < CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT; ++a) {
    std::size_t bytes = 0;
    if (cudnnGetConvolutionBackwardDataWorkspaceSize(m.handle, m.filter, m.dy, m.conv, m.dx,
                                                     static_cast<cudnnConvolutionBwdDataAlgo_t>(a),
                                                     &bytes) == CUDNN_STATUS_SUCCESS) {
      want = std::max(want, bytes);
    }
  }
  std::size_t free_bytes = 0, total = 0;
  if (cudaMemGetInfo(&free_bytes, &total) == cudaSuccess) want = std::min(want, free_bytes / 2);
  m.ensure_workspace(want);
  std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(static_cast<std::size_t>(max_count));
  int returned = 0;
  ok(cudnnFindConvolutionBackwardDataAlgorithmEx(m.handle, m.filter, w, m.dy, x, m.conv, m.dx, y, max_count, &returned,
                                                 perf.data(), m.workspace.get(), m.workspace.bytes()),
     "cudnnFindConvolutionBackwardDataAlgorithmEx");
  for (int i = 0; i < returned; ++i) {
    if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].memory <= m.workspace.bytes()) {
      return {perf[i].algo, perf[i].mathType, perf[i].memory, choice_name(perf[i].algo, perf[i].mathType, perf[i].memory)};
    }
  }
  throw std::runtime_error("cudnnFindConvolutionBackwardDataAlgorithmEx found no algorithm that runs");
}

void CudnnBaseline::run(const CudnnChoice& choice, const void* x, const void* w, const void* bias, void* y) {
  Impl& m = *impl_;
  m.ensure_workspace(choice.workspace);
  ok(cudnnSetConvolutionMathType(m.conv, static_cast<cudnnMathType_t>(choice.math_type)), "cudnnSetConvolutionMathType");
  const float one = 1.0f, zero = 0.0f;
  const std::size_t esize = detail::dtype_size(m.p.dtype);
  const std::size_t x_chunk = static_cast<std::size_t>(m.chunk * m.s.in_channels * m.s.in_length) * esize;
  const std::size_t y_chunk = static_cast<std::size_t>(m.chunk * m.s.out_channels * m.s.out_length) * esize;
  for (int64_t b = 0; b < m.s.batch; b += m.chunk) {
    const std::size_t i = static_cast<std::size_t>(b / m.chunk);
    const void* xb = static_cast<const char*>(x) + i * x_chunk;
    void* yb = static_cast<char*>(y) + i * y_chunk;
    ok(cudnnConvolutionBackwardData(m.handle, &one, m.filter, w, m.dy, xb, m.conv,
                                    static_cast<cudnnConvolutionBwdDataAlgo_t>(choice.algo), m.workspace.get(),
                                    choice.workspace, &zero, m.dx, yb),
       "cudnnConvolutionBackwardData");
    if (bias) ok(cudnnAddTensor(m.handle, &one, m.bias, bias, &one, m.dx, yb), "cudnnAddTensor (bias)");
  }
}

std::string CudnnBaseline::version() {
  const std::size_t v = cudnnGetVersion();  // major*10000 + minor*100 + patch since cuDNN 9
  return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}

}  // namespace convt1d::bench
