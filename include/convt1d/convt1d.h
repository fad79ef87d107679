/* convt1d — 1-D transposed convolution (PyTorch nn.ConvTranspose1d semantics).
 *
 * C ABI. Plain data in, status code out; the message of the last failure on the calling thread is
 * available from convt1d_last_error(). No CUDA or torch header is needed to use it: the stream is
 * passed as the opaque `struct CUstream_st*`, which is what cudaStream_t is.
 *
 * Layouts (all contiguous, row-major):
 *   x      (batch, in_channels, in_length)
 *   weight (in_channels, out_channels / groups, kernel_size)
 *   bias   (out_channels)                      — only when has_bias
 *   y      (batch, out_channels, out_length)   — see convt1d_output_length()
 *
 *   out_length = (in_length - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1
 */
#ifndef CONVT1D_CONVT1D_H
#define CONVT1D_CONVT1D_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define CONVT1D_API __declspec(dllexport)
#else
#define CONVT1D_API __attribute__((visibility("default")))
#endif

struct CUstream_st; /* cudaStream_t == struct CUstream_st* */

typedef enum convt1d_status {
  CONVT1D_OK = 0,
  CONVT1D_INVALID_ARGUMENT = 1, /* the problem or a pointer is wrong; the message says which */
  CONVT1D_UNSUPPORTED = 2,      /* valid, but no backend here can run it (e.g. no CUDA device) */
  CONVT1D_CUDA_ERROR = 3,       /* a CUDA call or launch failed */
  CONVT1D_INTERNAL_ERROR = 4
} convt1d_status;

typedef enum convt1d_dtype {
  CONVT1D_FLOAT32 = 0,
  CONVT1D_FLOAT16 = 1,
  CONVT1D_BFLOAT16 = 2,
  CONVT1D_FLOAT64 = 3
} convt1d_dtype;

/* How fp32 products are formed. Ignored for the other dtypes (16-bit inputs always accumulate in
 * fp32, fp64 in fp64). TF32 is PyTorch's default for convolutions, hence value 0. */
typedef enum convt1d_math {
  CONVT1D_MATH_TF32 = 0,
  CONVT1D_MATH_IEEE = 1
} convt1d_math;

typedef enum convt1d_device {
  CONVT1D_DEVICE_CPU = 0,
  CONVT1D_DEVICE_CUDA = 1 /* the calling thread's current CUDA device */
} convt1d_device;

/* Which implementation runs. AUTO lets the planner choose; the others force one family (for tests
 * and benchmarks) and fail with CONVT1D_UNSUPPORTED where that family cannot run the problem. */
typedef enum convt1d_algorithm {
  CONVT1D_ALGO_AUTO = 0,
  CONVT1D_ALGO_DIRECT = 1,    /* one output element per thread, any problem */
  CONVT1D_ALGO_IMPLICIT_GEMM = 2, /* tensor-core polyphase implicit GEMM */
  CONVT1D_ALGO_WGMMA = 3,         /* Hopper tap-major GEMM (wgmma + TMA): sm_90, groups 1 */
  CONVT1D_ALGO_WGMMA_STREAM = 4,  /* Hopper streaming kernel: sm_90, groups 1, C_out <= 128, stride <= 8 */
  CONVT1D_ALGO_NARROW = 5         /* few output channels, groups 1, no fp64: mma.sync (TF32, 16-bit; C_out*K <= 64)
                                     or FMA (IEEE; C_out*K <= 32) */
} convt1d_algorithm;

typedef struct convt1d_problem {
  int64_t batch;
  int64_t in_channels;
  int64_t out_channels;
  int64_t in_length;
  int64_t kernel_size;
  int64_t stride;
  int64_t padding;
  int64_t output_padding;
  int64_t dilation;
  int64_t groups;
  int32_t has_bias;  /* 0 or 1 */
  int32_t dtype;     /* convt1d_dtype */
  int32_t math;      /* convt1d_math */
  int32_t device;    /* convt1d_device */
  int32_t algorithm; /* convt1d_algorithm */
} convt1d_problem;

/* A problem with PyTorch's defaults: stride 1, padding 0, output_padding 0, dilation 1, groups 1,
 * fp32 in TF32 mode, on CUDA, algorithm AUTO. */
CONVT1D_API convt1d_problem convt1d_problem_init(int64_t batch, int64_t in_channels, int64_t out_channels,
                                                 int64_t in_length, int64_t kernel_size);

/* Checks every field; on failure the message names the field, what was expected and what was given. */
CONVT1D_API convt1d_status convt1d_validate(const convt1d_problem* problem);

/* Validates, then writes out_length. */
CONVT1D_API convt1d_status convt1d_output_length(const convt1d_problem* problem, int64_t* out_length);

/* y = conv_transpose1d(x, weight, bias). Pointers live on problem->device; for CUDA the work is
 * enqueued on `stream` (NULL: the legacy default stream) and the call does not synchronise.
 * batch == 0 is valid and does nothing. */
CONVT1D_API convt1d_status convt1d_forward(const convt1d_problem* problem, const void* x, const void* weight,
                                           const void* bias, void* y, struct CUstream_st* stream);

/* Weights packed once, ahead of the calls (inference: weights that do not change between calls).
 *
 * Some plans rearrange the weights into a workspace on every call: fp32 (TF32 and IEEE) on Hopper's
 * tap-major kernel reads W^T, rounded to TF32 (IEEE: split in two parts), which costs about one read
 * and one write of the weights per call. convt1d_pack_weight writes that arrangement once into
 * caller-owned device memory (16-byte aligned) and convt1d_forward_packed reads it in place of
 * repacking. convt1d_packed_weight_layout says how many bytes a problem's plan reads and which
 * arrangement (`id`): problems with equal layouts (say, the same layer at other lengths) share packed
 * weights, and a call whose plan reads another layout than the one passed fails with
 * CONVT1D_INVALID_ARGUMENT rather than compute from the wrong arrangement. Layouts hold for the device
 * that was current and the library version that made them; packed bytes hold the weights' values at
 * packing time: pack again after the weights change. Where a problem's plan packs nothing, the layout
 * is {0, 0} (packed may then be NULL), convt1d_pack_weight does nothing and convt1d_forward_packed is
 * convt1d_forward. */
typedef struct convt1d_packed_layout {
  uint64_t bytes; /* of device memory at `packed` */
  uint64_t id;    /* the arrangement; 0 when bytes is 0 */
} convt1d_packed_layout;

CONVT1D_API convt1d_status convt1d_packed_weight_layout(const convt1d_problem* problem, convt1d_packed_layout* layout);

/* Enqueues the packing of `weight` into `packed` on `stream` (no synchronisation). `layout` must be
 * the problem's. */
CONVT1D_API convt1d_status convt1d_pack_weight(const convt1d_problem* problem, const void* weight, void* packed,
                                               const convt1d_packed_layout* layout, struct CUstream_st* stream);

/* convt1d_forward reading the weights convt1d_pack_weight packed from `weight` in `layout`, which must
 * be this problem's. `weight` is still required: calls that cannot use the packed bytes (x at an
 * address TMA cannot read) read it. */
CONVT1D_API convt1d_status convt1d_forward_packed(const convt1d_problem* problem, const void* x, const void* weight,
                                                  const void* packed, const convt1d_packed_layout* layout,
                                                  const void* bias, void* y, struct CUstream_st* stream);

/* Message of the last failure on this thread ("" after a success). Valid until the next call. */
CONVT1D_API const char* convt1d_last_error(void);

CONVT1D_API const char* convt1d_status_string(convt1d_status status);

/* Number of usable CUDA devices (0 when there is no driver or no GPU); never fails. */
CONVT1D_API int convt1d_cuda_device_count(void);

CONVT1D_API const char* convt1d_version(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CONVT1D_CONVT1D_H */
