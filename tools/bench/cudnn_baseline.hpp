// The baseline: cuDNN called the way PyTorch's cuDNN path calls it for conv_transpose1d — the backward
// data pass of the matching forward convolution, on the NCL tensors viewed as NCHW with H = 1.
//   x  (B, C_in, L_in)  -> "dy", weight (C_in, C_out/g, K) -> filter (C_in, C_out/g, 1, K),
//   y  (B, C_out, L_out) -> "dx" (output_padding is just a longer dx), pad (0, p), stride (1, s),
//   dilation (1, d), groups via cudnnSetConvolutionGroupCount, cross-correlation, fp32 compute.
// Math type as ATen's ConvolutionDescriptor::set: CUDNN_TENSOR_OP_MATH for fp16, CUDNN_FMA_MATH for
// fp32 when TF32 is off (our "ieee" mode), CUDNN_DEFAULT_MATH otherwise (TF32 allowed); after choosing
// an algorithm the descriptor takes that algorithm's math type, as ATen does before running it.
// Bias is a separate cudnnAddTensor pass. Tensors with more than INT_MAX elements are run in batch
// chunks, as ATen's split_batch_dim_to_32bit_out does. Built only when cuDNN is found.
#pragma once

#include <memory>
#include <string>

#include "convt1d/convt1d.h"

namespace convt1d::bench {

struct CudnnChoice {
  int algo = -1;
  int math_type = 0;
  std::size_t workspace = 0;
  std::string name;  // "ALGO_1 (tensor-op math, 12.0 MiB)"
};

class CudnnBaseline {
 public:
  // p: dtype and math set for the mode. Throws std::runtime_error when cuDNN rejects the geometry.
  explicit CudnnBaseline(const convt1d_problem& p);
  ~CudnnBaseline();
  CudnnBaseline(const CudnnBaseline&) = delete;
  CudnnBaseline& operator=(const CudnnBaseline&) = delete;

  // PyTorch's default (benchmark=False): the first algorithm cudnnGetConvolutionBackwardDataAlgorithm_v7
  // ranks that succeeds and whose workspace can be allocated.
  CudnnChoice heuristic();
  // torch.backends.cudnn.benchmark=True: the fastest measured by cudnnFindConvolutionBackwardDataAlgorithmEx
  // (which writes y).
  CudnnChoice fastest(const void* x, const void* w, void* y);

  // y = conv_transpose1d(x, w, bias) with the chosen algorithm, on the legacy default stream.
  void run(const CudnnChoice& choice, const void* x, const void* w, const void* bias, void* y);

  static std::string version();  // of the loaded library, e.g. "9.19.0"

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace convt1d::bench
