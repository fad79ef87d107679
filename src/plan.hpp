// Host-side planning: polyphase decomposition, tile sizes and kernel choice. Pure C++ (no CUDA), so
// every decision here runs and is tested on the CPU.
//
// Polyphase view. Write u = t + padding for an output position t, and split u = q*stride + r. Output
// t only receives taps k with k*dilation ≡ r (mod stride), each from input l = q - shift_k where
// shift_k = (k*dilation - r) / stride. With g = gcd(stride, dilation) the taps of phase r form an
// arithmetic progression: first tap k0, then every stride/g taps, the shift growing by dilation/g.
// So each phase is a stride-1 correlation over its own short tap list, with no zero-insertion work.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "problem.hpp"

namespace convt1d::detail {

constexpr int kMaxPhases = 32;  // phases (= stride) the implicit-GEMM kernel takes as parameters

struct PhaseTaps {
  int32_t first_tap;    // k0: smallest tap of the phase
  int32_t first_shift;  // shift of k0
  int32_t count;        // taps in the phase (may be 0: that phase's outputs are bias only)
};

struct Polyphase {
  int32_t phases = 1;      // = stride
  int32_t tap_step = 1;    // stride / gcd(stride, dilation)
  int32_t shift_step = 1;  // dilation / gcd(stride, dilation)
  int32_t max_shift = 0;   // largest shift over all phases: the x halo to the left of a tile
  std::vector<PhaseTaps> taps;  // one per phase
};

Polyphase make_polyphase(int64_t stride, int64_t dilation, int64_t padding, int64_t kernel_size);

// What the planner needs to know of the GPU.
struct DeviceInfo {
  int ordinal = 0;  // CUDA device number
  int cc_major = 0, cc_minor = 0;
  int sm_count = 0;
  int64_t smem_per_block_optin = 0;  // bytes a block may use after opting in
  int64_t smem_per_sm = 0;
};

enum class KernelKind { Cpu, Direct, ImplicitGemm };
const char* kernel_name(KernelKind k);

// Tiling of the implicit-GEMM kernel (src/cuda/implicit_gemm.cu documents the smem layout it sizes).
// A tile is 64 output channels x q_tile positions of every phase (q_tile*stride consecutive outputs).
// The reduction (C_in/groups) is cut into `chunks` pieces of ci_chunk channels; with one chunk the
// block's weights stay resident in shared memory across its tiles.
struct GemmTiling {
  int32_t block_co = 64;     // output channels per block (M tile): kGemmBlockCo
  int32_t q_tile = 256;      // positions per phase per tile (N tile)
  int32_t k_step = 8;        // MMA reduction depth: 8 for tf32, 16 for fp16/bf16
  int32_t ci_chunk = 0;      // input channels per pipeline step (multiple of k_step)
  int32_t chunks = 1;        // ceil(C_in/groups / ci_chunk)
  int32_t items = 0;         // warp work items per tile: stride * q_tile / 32
  int32_t w_rows = 0;        // 32-bit weight words per channel and tap: ci_chunk (fp32) or ci_chunk/2 (16-bit pairs)
  int32_t x_cols = 0;        // x window row pitch in elements (halo + q_tile + alignment slack, padded)
  int32_t y_pitch = 0;       // output staging row pitch in elements (output type; fp32 with split-K)
  int32_t stages = 2;        // x windows in flight
  bool stream_w = false;     // chunks > 1: raw weight rows stream with x through the stages
  bool pack_w = false;       // stream_w with weights pre-packed in fragment order (a workspace, per call)
  int32_t w_pitch = 0;       // raw weight row pitch in elements (stream_w without pack_w): >= 64*K
  int32_t splits = 1;            // work units per tile (split-K over chunks; fp32 staging when > 1)
  int32_t chunks_per_split = 0;  // chunks of one unit (the last unit of a tile may have fewer)
  int64_t packed_bytes = 0;      // pack_w workspace: groups x co_tiles x chunks x one chunk in fragment order
  int64_t smem_bytes = 0;
  int64_t co_tiles = 0, q_tiles = 0, tiles = 0;  // tiles = groups * co_tiles * batch * q_tiles
  int64_t grid = 0;          // persistent blocks
};

constexpr int kGemmBlockCo = 64;     // output channels per tile (4 MMA tiles of 16 per warp)
constexpr int kGemmWarps = 8;         // warps per block of the implicit-GEMM kernel
constexpr int kGemmWarpPositions = 32;  // positions (one phase) per warp work item
constexpr int kGemmMaxTileOutputs = 512;  // q_tile*stride cap: bounds the output staging buffer

struct Plan {
  Shape shape;
  int32_t dtype = CONVT1D_FLOAT32;
  int32_t math = CONVT1D_MATH_TF32;
  bool has_bias = false;
  KernelKind kernel = KernelKind::Direct;
  std::string reason;  // why this kernel (for logs, `convt1d check -v`, tests)
  Polyphase poly;
  GemmTiling gemm;
};

// Can the implicit-GEMM kernel run this problem on this device? Fills `tiling` when it can;
// otherwise returns false and says why in `why`.
bool plan_implicit_gemm(const Shape& s, int32_t dtype, const Polyphase& poly, const DeviceInfo& dev,
                        GemmTiling& tiling, std::string& why);

// Row pitch (elements) of streamed raw weight rows: 16-byte multiple, fewest bank conflicts.
int64_t raw_weight_pitch(int64_t kernel_size, int64_t block_co, int64_t elem);

// Blocks of `smem_bytes` that fit on one SM (the runtime reserves 1 KB per block).
int64_t blocks_per_sm(const DeviceInfo& dev, int64_t smem_bytes);

// IEEE fp32 (3xTF32): splits streamed reductions so that no accumulation chain exceeds the length
// at which the tensor cores' fp32 accumulation stays within 1e-5.
void limit_ieee_chain(Plan& plan, const DeviceInfo& dev);

// The whole plan for a validated problem. Throws ApiError(UNSUPPORTED) when a forced algorithm
// cannot run the problem.
Plan make_plan(const convt1d_problem& p, const DeviceInfo& dev);

}  // namespace convt1d::detail
