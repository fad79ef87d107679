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
#include "row_residues.hpp"

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
  bool wgmma = false;  // an sm_90 device, and this library carries sm_90a code (wgmma, TMA)
};

enum class KernelKind { Cpu, Direct, ImplicitGemm, Wgmma, GemmCol2im, WgmmaStream, Narrow };
const char* kernel_name(KernelKind k);
const char* algorithm_name(int32_t algorithm);  // the public CONVT1D_ALGO_* names

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

// Tap-major GEMM on Hopper tensor cores (wgmma, sm_90a; fp16/bf16, and fp32-TF32 with x transposed:
// tf32_columns; groups 1), in src/cuda/wgmma_gemm.cu: Z[(co,k), l] = sum_ci W[ci, co, k] x[ci, l] over a window of input
// positions, both operands read unshifted in their own layouts (W as [C_in][C_out*K], x as [C_in][L]),
// then each output sums its taps' rows of Z (the shift-add) in the epilogue. A tile is
// consumers * co_per_half output channels x `segments` windows; windows of one row overlap by `halo`
// positions so that every output a window owns has all its taps inside it.
struct WgmmaTiling {
  int32_t co_per_half = 0;   // output channels per consumer warpgroup (its 64 rows of Z): 64 / K
  // Consumer warpgroups, each 64 rows of Z: 2, or 3 for wide tiles (kWgmmaWide* below) of the 16-bit
  // and TF32 packed-W^T kernel (wgmma_gemm.cu), whose weight boxes then serve 192 rows of one x tile.
  int32_t consumers = 2;
  int32_t window = 0;        // input positions per window (a multiple of n_atom)
  int32_t segments = 1;      // windows per tile: window j of `segments` consecutive batch rows
  int32_t n_atom = 64;       // positions per swizzle atom of the x tile: 32 or 64
  int32_t halo = 0;          // ceil((K-1)*dilation / stride) (taps reach this far left), rounded up to 8
  int32_t windows = 1;       // windows per row
  int32_t stages = 0;        // pipeline stages (weights + x for kWgmmaChunk input channels each)
  int32_t k_chunks = 0;      // ceil(C_in / kWgmmaChunk)
  int32_t z_pitch = 0;       // fp32 row pitch of the Z staging (epilogue)
  int32_t blocks_per_sm = 1; // 2 for tiles up to kWgmmaMaxSharedN columns (smem sized to fit two)
  // 16-bit and TF32 packed-W^T tiles (src/cuda/wgmma_gemm.cu): one block per SM walks tiles
  // blockIdx.x, + grid, ..., with Z in its own buffer after the stages (or none, with the register
  // epilogue), so that the producer fills the next tile's stages while the consumers run this one's
  // shift-add (with one tile per block, every tile starts on a cold pipeline). AUTO: kWgmmaPersistent*
  // below.
  bool persistent = false;
  int64_t grid = 0;          // blocks launched: persistent, min(tiles, SMs); else one per tile
  int64_t x_pitch = 0;       // x row pitch TMA reads (elements, 16-byte multiple); > L_in: x is first
                             // copied into a stream-ordered workspace with rows of this pitch
  bool rows_fastest = false; // consecutive tiles share their weights (else their x windows)
  // fp32 in TF32 mode (src/cuda/wgmma_tf32.cu): the roles swap, D[position, m] = x^T W^T, because
  // wgmma reads tf32 operands from smem K-major only: x^T comes from registers, W^T pre-packed.
  bool tf32 = false;
  int32_t rows = 0;          // tf32: W^T rows (m = co*K + k) per tile, the wgmma N (multiple of 32)
  int32_t ci_pitch = 0;      // tf32: packed W^T row pitch (C_in rounded up to a chunk; x2 in IEEE), elements
  // fp32 in IEEE mode as 3xTF32 (tf32 and x_transposed set too): W^T and x^T packed with each chunk's
  // tf32 big parts and small parts (v - big, rounded) side by side, and k_chunks counting kIeeePasses
  // passes per chunk: W big x x big, W small x x big, W big x x small (the small x small term is below
  // fp32's rounding). The kernels only move their TMA columns (wgmma_common.cuh, packed_columns).
  bool ieee = false;
  // IEEE accuracy. Tensor cores truncate their fp32 accumulator at every add, so on one-signed data
  // (tests/cpp/test_cuda_parity.cpp, OneSignedInputsDeepReductions; perf-log step 94) the error grows
  // by ~5e-8 per add into a sum near the result's size: 1.34e-5 over 2048 channels with the big parts
  // in a chain of their own (C_in/8 adds), 8.5e-6 over 768 channels with all three passes in one.
  // Two remedies. One chain (in_channels <= kIeeeOneChainChannels, packed W^T): the small parts' passes
  // of every chunk run first, then the big parts', so only the big parts' adds count
  // (wgmma_common.cuh, packed_columns). segment_sums (deeper, or raw_weights): every segment of
  // segment_chunks chunks (kIeeeSegmentChannels) starts a fresh chain, its passes chunk by chunk,
  // folded into a second register set (`total`) by fp32 FADDs (tf32_columns only, tiles of at most
  // kWgmmaSegmentSumsMaxN columns, kRawWeightsIeeeMaxN with raw weights, one block per SM).
  bool segment_sums = false;
  int32_t segment_chunks = 0;  // IEEE with segment_sums: chunks per segment (else all of them)
  // tf32_columns tiles of few row tiles (kRawWeights*MaxRowTiles: B = 1 layers, where the weights
  // outweigh x): W read as stored by TMA, each consumer loading its wgmma A fragments from shared
  // memory and rounding (IEEE: splitting) them in registers, so no W^T is packed
  // (src/cuda/wgmma_raw_weights.cu). co_per_half*K is then a multiple of 4 (TMA box starts),
  // k_chunks counts chunks (IEEE: each stage holds x^T's big and small parts, and segment_sums).
  bool raw_weights = false;
  // tf32: x first transposed into a workspace x^T [B][L][ci_pitch] (rounded to tf32), so that both
  // wgmma operands come from shared memory K-major (but for raw_weights): no fragment loads.
  bool x_transposed = false;
  // tf32 with x_transposed: x^T as wgmma B and W^T as A (the 16-bit kernel's orientation, 2*co_per_half
  // channels x N positions), so that a window can be any multiple of 16 positions up to 256 instead of
  // 128 (T3's and T5's rows of 257-267 positions take two windows instead of three).
  bool tf32_columns = false;
  // The shift-add's thread groups (shift_add_groups below): the block's threads, or with persistent
  // the consumers', as this many groups of shift_add_lanes threads.
  int32_t shift_add_groups = 1;
  int32_t shift_add_lanes = 0;  // (set with shift_add_groups by plan_shift_add)
  // The shift-add from the consumers' accumulators instead of Z in shared memory
  // (src/cuda/register_shift_add.cuh): stride kRegisterEpilogueStride, kernel_size twice that,
  // dilation 1, on the tap-major kernels (16-bit, TF32 and IEEE tf32_columns, raw_weights included).
  // register_epilogue_fits says when.
  bool register_epilogue = false;
  // TF32 tiles on packed W^T (tf32_columns, not raw_weights) at strides 4, 2 and 1 (kernel_size twice
  // the stride): the packing writes W^T's rows regrouped (src/tap_pairs.hpp) so that each lane holds
  // both taps of its outputs, and the register epilogue serves them as it does stride 8. AUTO:
  // persistent tilings of kTapPairsMinRounds rounds or more.
  bool tap_pairs = false;
  // 16-bit tiles over batch rows joined end to end (perf-log step 143): x copied into a workspace
  // [C_in][B * joined_pitch] in which each batch row's L_in positions are followed by zeros up to
  // joined_pitch, so that windows run on across row ends instead of every row rounding up to whole
  // windows (16 rows of 300 positions: three windows of 128 each apart, 19 windows of 256 joined).
  // Windows, tiles and register_epilogue_fits then see one row of B * joined_pitch positions
  // (joined_shape), and the register epilogue maps each column back to its batch row; the zeros between
  // rows stand for the positions outside them that the taps reach. Only with the register epilogue,
  // and only where it saves waves of tiles (prefer_joined_rows in plan_wgmma.cpp). 0: rows apart.
  int64_t joined_pitch = 0;
  // TF32 / IEEE: the per-call packing of W^T and x^T by TMA on this many persistent blocks (one per
  // SM; src/cuda/tf32_pack_tma.cu) instead of the plain kernel's one small block per tile, for the
  // packings of tens of MB that it moves faster (pack_tma_blocks in plan_wgmma.cpp). 0: the plain
  // kernel, which the launcher also falls back to where TMA cannot address the operands.
  int32_t pack_blocks = 0;
  int64_t co_tiles = 0, row_tiles = 0, tiles = 0;
  int64_t smem_bytes = 0;
  int32_t n() const { return window * segments; }  // GEMM N: Z columns per tile
  // Output channels per tile: one block of rows in the x^T-as-A TF32 kernel, else one per consumer.
  int32_t tile_channels() const { return tf32 && !tf32_columns ? co_per_half : consumers * co_per_half; }
  int32_t block_threads() const { return kWarpgroupThreads * (1 + consumers); }  // the producer + the consumers
  int32_t consumer_threads() const { return kWarpgroupThreads * consumers; }
  static constexpr int32_t kWarpgroupThreads = 128;
};

constexpr int kWgmmaChunk = 64;       // input channels per pipeline stage (the K of 4 wgmma k16 steps)
constexpr int kWgmmaBlockThreads = 384;     // a producer and two consumer warpgroups
constexpr int kWgmmaConsumerThreads = 256;  // (a persistent tile's shift-add runs on the consumers)
constexpr int kWgmmaRows = 64;        // Z rows per consumer warpgroup (the wgmma M)
constexpr int kWgmmaMaxN = 256;       // largest wgmma N
constexpr int kWgmmaMaxStages = 8;
constexpr int kWgmmaMaxTileChannels = 192;  // output channels of one tile (tf32, K = 1): the bias staged in smem
// Tiles of three consumer warpgroups (WgmmaTiling::consumers): a stage's 64 channels of x feed 192 rows
// of W instead of 128, so a tile N wide reads (192 + N) / (192 N) bytes from L2 per MAC instead of
// (128 + N) / (128 N): 22 % fewer at N 256. The large layers' main loops are bound by that traffic
// (perf-log step 118: T3 and T5 keep 65 % of their time with the MMAs compiled out). Widths from
// kWgmmaWideMinN in steps of kWgmmaWideColumnStep (compiled); no Z of their own (persistent tiles only
// with the register epilogue), no segment sums, one block per SM, 512 threads whose producer gives
// registers to the consumers (setmaxnreg: an N 256 consumer holds 128 accumulators).
// AUTO takes them where the tile cost model finds them cheaper (search_windows: a chunk costs its
// operand bytes), but not where the tiles' channels overrun C_out by more than kWgmmaWideMaxChannels
// (L2's 128 channels as 6 tiles of 24: IEEE 4 % slower), and persistent ones only as wide as the
// two-consumer persistent tiles at least (narrower: T7 bf16 6 % and L1 TF32 12 % slower; perf-log step 142),
// but in TF32 where an SM's rounds of them hold less MMA work (T5 6 % faster; step 161).
constexpr int kWgmmaWideConsumers = 3;
constexpr int kWgmmaWideMinN = 192;
constexpr int kWgmmaWideColumnStep = 32;
constexpr double kWgmmaWideMaxChannels = 1.05;
constexpr int kWgmmaMaxSharedN = 96;  // widest tile compiled for two blocks per SM (85 registers)
constexpr int kWgmmaMaxSegmentedWindows = 16;  // tiles of several rows' windows: rows of at most this many
// WgmmaTiling::persistent, where AUTO takes it (perf-log steps 72, 122, 123, 126): fp16/bf16 tilings
// of more than one wave of tiles, where the persistent tiles (multiples of kWgmmaPersistentColumnStep
// columns, fewer kernel instances, up to kWgmmaPersistentMaxN: Z and two stages fit in shared memory)
// are about as wide as the one-tile ones (kWgmmaPersistentMinWidth: Oobleck's L2 runs 192 columns
// instead of 256, 10 % faster) and take about as many column slots per SM (kWgmmaPersistentMaxSlots;
// kWgmmaPersistentRegisterMaxSlots for tiles without Z, whose epilogue is short: DAC's S9 in 16-bit
// 17 % faster on 192 columns than on 160 at 1.2x the slots). The slots rule is what keeps short
// reductions on one-tile blocks where those pack the waves better (L6: 2 waves of 256 columns against
// 3 of 192, 2.6 % slower persistent). Persistent tiles run one block per SM: at two (N 64) they lost.
// TF32 (packed W^T columns): only tiles without Z, in steps of kWgmmaTf32PersistentColumnStep from
// kWgmmaTf32PersistentMinN, and only where they are kWgmmaTf32PersistentMinWiden x as wide as the
// one-tile plan's (step 139, H100: at the same width, persistent S9, L1 and T5 within -1.2..+0.1 % in TF32;
// IEEE +0.5..2.5 %, so IEEE keeps kWgmmaIeeePersistentMinWiden, which took T5's 144 columns over 96 at two
// blocks per SM before windowed segments). Tiles with Z lost on L1 in step 72, on L2, S10 and L6 by 5-20 %
// in step 126.
constexpr double kWgmmaPersistentMinWidth = 0.75;
constexpr double kWgmmaPersistentMaxSlots = 1.05;
constexpr double kWgmmaPersistentRegisterMaxSlots = 1.25;
constexpr int kWgmmaPersistentColumnStep = 64;
constexpr int kWgmmaPersistentMaxN = 192;
constexpr int kWgmmaTf32PersistentColumnStep = 16;
constexpr int kWgmmaTf32PersistentMinN = 128;
constexpr double kWgmmaTf32PersistentMinWiden = 1.0;
constexpr double kWgmmaIeeePersistentMinWiden = 1.25;
// Persistent tiles with the register epilogue (WgmmaTiling::register_epilogue) keep no Z: the stages
// have all of shared memory, and tiles may be as wide as wgmma's N.
constexpr int kWgmmaPersistentRegisterMaxN = 256;
constexpr int kWgmmaDeepChannels = 256;    // AUTO picks wgmma (where it runs) from this C_in up,
constexpr int kWgmmaMediumChannels = 96;   // or from this one when B*L_in is at most
constexpr int64_t kWgmmaMediumMaxPositions = 262144;
constexpr int64_t kWgmmaShallowMaxPositions = 65536;  // below kWgmmaMediumChannels: B*L_in up to this,
constexpr int kWgmmaNarrowOutChannels = 16;          // or at most this many output channels per group
constexpr int kIeeePasses = 3;                       // TF32 wgmma passes per chunk in IEEE mode
constexpr int kIeeeOneChainChannels = 1024;          // IEEE: above, WgmmaTiling::segment_sums
constexpr int kIeeeSegmentChannels = 384;            // channels per segment_sums chain (a multiple of a chunk)
constexpr int kWgmmaSegmentSumsMaxN = 128;           // two accumulator sets of N/2 registers each
constexpr int kRawWeightsMaxN = 128;                 // raw_weights tiles: accumulators + two fragment sets
constexpr int kRawWeightsIeeeMaxN = 64;              // (IEEE: two accumulator sets, big and small fragments)
// AUTO reads raw weights up to this many row tiles: TF32, IEEE, and IEEE beyond kRawWeightsDeepIeeeChannels
// (where the packed alternative is narrower tiles with segment sums). Perf-log step 70.
constexpr int kRawWeightsDeepIeeeChannels = 1024;
constexpr int kRawWeightsMaxRowTiles = 4;
constexpr int kRawWeightsIeeeMaxRowTiles = 8;
constexpr int kRawWeightsDeepIeeeMaxRowTiles = 64;

// Can every output of tiling `t` be summed from the accumulators (WgmmaTiling::register_epilogue)?
// Two taps per output one position apart (kernel_size = 2 * stride, dilation 1) whose rows one lane
// holds (src/tap_pairs.hpp): stride 8, where a channel's 16 rows are one warp's, or strides 4, 2 and 1
// where the W^T packing regroups the rows (WgmmaTiling::tap_pairs); and no output owned by the last
// window further right than one column past it.
constexpr int kRegisterEpilogueStride = 8;
bool register_epilogue_fits(const Shape& s, const WgmmaTiling& t);
// AUTO regroups W^T's rows (WgmmaTiling::tap_pairs) for TF32 persistent tilings of at least this many
// rounds of tiles per SM. Measured (perf-log step 165, H100): L2 (63 rounds) 2.7 % faster than its
// one-tile blocks through Z; T3 (4 rounds) the same; S10 and L6 (2 rounds) 5-8 % slower; one-tile
// blocks with the register epilogue at strides 4 and 2, mixed (S23 -3 %, S6 +4 %, IEEE S11 +13 %).
constexpr int64_t kTapPairsMinRounds = 8;

// WgmmaTiling::joined_pitch: the shortest pitch (even, and B * pitch a multiple of 8 for TMA's 16-byte
// row pitch) whose zeros after a row cover the taps' reach left of the next row and the outputs right of
// its own; and the one-row shape over B * pitch positions whose windows and last output the tiling sees.
int64_t joined_pitch_of(const Shape& s);
Shape joined_shape(const Shape& s, int64_t pitch);

// Can the wgmma kernel run this problem on this device? Fills `t` when it can; else says why.
bool plan_wgmma(const Shape& s, int32_t dtype, const DeviceInfo& dev, WgmmaTiling& t, std::string& why);
// fp32 on the TF32 wgmma kernels: one pass (TF32 mode), or three (ieee: IEEE mode as 3xTF32).
bool plan_wgmma_tf32(const Shape& s, const DeviceInfo& dev, WgmmaTiling& t, std::string& why, bool ieee = false);

constexpr int kWgmmaTf32Positions = 128;  // positions per tile: 2 consumer warpgroups x the wgmma M
constexpr int kWgmmaTf32Chunk = 32;       // input channels per stage (one 128-byte swizzle row of fp32)
constexpr int kWgmmaTf32Atom = 32;        // positions per x TMA box (128 bytes of fp32)
constexpr int kWgmmaTf32MaxRows = 192;    // W^T rows per tile (the registers of 96 accumulators)
constexpr int kWgmmaTf32RowStep = 32;     // rows round up to whole wgmma widths
// x_transposed where the x^T workspace stays bounded and either x needs a padded copy anyway (rows not
// 16-byte multiples) or the tile's MMA work per x element, C_out*K, repays the transpose pass
// (perf-log steps 43 and 50: with x^T as wgmma B, L2 and T8 gain 23 %, S13 and S17 17-20 %; T6, S11
// and S3, 256-384 rows of short reductions, lose 2-17 %).
constexpr int64_t kWgmmaTf32MaxTransposeBytes = int64_t{1} << 30;
constexpr int64_t kWgmmaTf32TransposeMinRows = 512;
constexpr int kWgmmaTf32ColumnStep = 16;  // tf32_columns windows: multiples of the narrowest wgmma used
// WgmmaTiling::pack_blocks: the bytes moved (reads and writes of W^T and x^T) for which the TMA packing
// was faster than the plain one (perf-log step 152, H100: 22-126 MB 1-15 % faster; 11 MB and less,
// 189 MB and more 1-10 % slower: the persistent blocks' set-up, then the plain kernel's deeper
// memory parallelism).
constexpr int64_t kPackTmaMinBytes = int64_t{20} << 20;
constexpr int64_t kPackTmaMaxBytes = int64_t{128} << 20;

// Windows per row and the outputs window j owns: t in [first, last). Exposed for the tests.
int64_t wgmma_windows(int64_t in_length, int64_t window, int64_t halo);
void wgmma_owned_outputs(const Shape& s, const WgmmaTiling& t, int64_t j, int64_t& first, int64_t& last);

// The shift-add epilogue's thread groups: `threads` threads as g groups of threads / g lanes, group i
// taking a tile's `rows` rows (channel, segment) i, i + g, ... and its lanes a row's `outputs` outputs
// lanes - lanes % stride apart (a lane keeps one phase). Returns the g (groups of whole warps) that
// minimises a thread's rows x (a row's set-up + its outputs per lane).
int32_t shift_add_groups(int64_t rows, int64_t outputs, int64_t stride, int32_t threads);
// Sets t.shift_add_groups for a tap-major tiling (plan_wgmma, plan_wgmma_tf32).
void plan_shift_add(const Shape& s, WgmmaTiling& t);

// GemmCol2im: kernels too long for a tile's taps (K beyond the TF32 wgmma tile's rows) run as the
// plain GEMM Z[b, m, l] = sum_ci W[ci, m] x[b, ci, l] over m = co*K + k (a 1x1 transposed convolution
// into a workspace, planned like any problem), then a pass that sums each output's taps of Z.
constexpr int64_t kCol2imMaxWorkspaceBytes = int64_t{1} << 30;
// The 1x1 problem of that GEMM: same batch, input and length, C_out*K output channels, fp32 (in the
// caller's math, TF32 or IEEE as 3xTF32; TF32 for fp16/bf16 callers), no bias, on the wgmma kernel.
convt1d_problem col2im_gemm_problem(const convt1d_problem& p);
// Its workspace in floats (as doubles, so that the bound check cannot overflow): Z, and for fp16/bf16
// the fp32 copies of x and W the GEMM reads.
struct Col2imWorkspace {
  double z = 0, x = 0, w = 0;
  double bytes() const { return (z + x + w) * 4.0; }
};
Col2imWorkspace col2im_workspace(const Shape& s, int32_t dtype);

// Streaming kernel on Hopper tensor cores for layers with few output channels and long rows
// (KernelBench #74; upsamplers like BigVGAN's last ones), in src/cuda/wgmma_stream.cu, fp32 (TF32 or
// IEEE), fp16 and bf16: persistent blocks keep the whole W^T (C_out x C_in*K) in shared memory and
// stream tiles of 128 input positions q (u = q*stride + r: 128*stride outputs, every phase r): x
// windows in by TMA, wgmma with x^T from registers (each tap is a column offset into the same window;
// each phase reduces over its own taps), y out through a staging buffer by dedicated store warps.
// There is no Z and no shift-add: the taps are part of the reduction.
// Where the whole W^T or the stagings do not fit (C_out 65-128, or C_in*K in the hundreds: DAC's and
// Oobleck's last upsamplers), the phase-block variant (src/cuda/wgmma_phase_stream.cu) walks tiles
// of 64 positions and stores each tile's outputs from the accumulators (no staging). Each block keeps
// either every phase's W^T rows for one group of channels (stride <= 4: the groups' accumulators of
// all phases fit those of one 128-channel phase), so that a thread's stores to neighbouring outputs
// come one after another, or, where those rows do not fit, one phase's rows for every channel.
constexpr int kStreamMaxPhases = 8;   // stride
constexpr int kStreamPositions = 128;   // q per tile: two m64 blocks of one consumer warpgroup
constexpr int kPhaseBlockPositions = 64;  // q per tile of the phase-block variant: one m64 block
constexpr int kStreamRowStep = 32;      // N rounds up to whole m64n32 wgmmas
constexpr int kStreamLaneOutputs = kStreamPositions / 32;  // a store-warp lane's vector of outputs
constexpr int kStreamMaxN = 64;         // output channels (the accumulators of 128 positions: 64 registers)
constexpr int kPhaseBlockMaxN = 128;    // (the accumulators of 64 positions: 64 registers)
constexpr int kStreamMaxBox = 256;      // TMA box edge limit (window width, channel rows)
// x windows in flight: 4; fp32, which moves twice the bytes per tile, gains from 6 where every block
// walks many tiles (KB74 tf32 -1.4 % on the H100, -2 % on the H200), while the short layers (T2, P1,
// X2) lose 1-2 % and 16-bit loses from more than 4 (KB74 bf16 +18 % at 6; perf-log steps 41, 57).
constexpr int kStreamMaxStages = 4;
constexpr int kStreamMaxStagesFp32 = 6;
// Every-phase 16-bit tilings: three consumer warpgroups (StreamTiling::consumers) and two x windows each.
constexpr int kStreamConsumers16 = 3;
constexpr int kStreamMaxStages16 = 2 * kStreamConsumers16;
constexpr int kStreamDeepRingTilesPerBlock = 16;
// Blocks that walk many tiles take them in runs of kStreamTileRun consecutive tiles (TileWalk), so
// that one SM writes 4 neighbouring tiles' outputs of each y row within a few tiles' time. Measured
// on H100s against runs of 1 (perf-log step 92): KB74 tf32 -6 % (248 tiles per block; 16-bit +5 %,
// IEEE +1 %); channel-group phase blocks: tf32 -5..20 % from ~500 tiles per block (X1 -20 %) but
// +5 % at T8's 124, 16-bit -15..19 % at 124-500 tiles per block (T8; neutral from ~1000), IEEE +13 %
// on T8 (neutral to -5 % on rows 4-32x longer); T4 (31 tiles per block) +1..2 %. So: TF32 and 16-bit.
constexpr int kStreamTileRun = 4;
constexpr int64_t kStreamTileRunMinTilesFp32 = 192;  // TF32: every-phase tilings, channel groups
constexpr int64_t kStreamTileRunMinTiles16 = 64;      // 16-bit channel groups
// AUTO: fp32 layers of at least kStreamMinWavesFp32 tiles per SM stream (perf-log step 140: with fewer,
// B = 1 layers of 32-95 tiles at strides 2-3 ran 5-19 % faster on the tap-major kernel; P1's 313 and
// T2's 528 tiles 7-36 % faster streamed), at stride 1 from kStreamMinTilesFp32OnePhase tiles (step 39;
// the tap-major kernel's shift-add then sums every tap); 16-bit ones from kStreamMinWaves16
// tiles per SM (perf-log step 39), or where every tile's rows leave as vectors from 3 per SM (step 177:
// P1's 2.4 waves 12 % faster on the tap-major kernel since, T2's 4 still 7 % faster streamed), and at
// stride 1 (one phase: the other kernels' shift-add over every tap) from kStreamMinTiles16OnePhase
// tiles (step 100: one row of KB74's channels in bf16 1.3-3.7x faster streamed at 65-513 tiles,
// 14 % slower at 33).
constexpr int kStreamMinWavesFp32 = 1;
constexpr int64_t kStreamMinTilesFp32OnePhase = 32;
constexpr int kStreamMinWaves16 = 4;
constexpr int kStreamMinWaves16Vector = 3;
constexpr int kStreamMinTiles16OnePhase = 64;
// AUTO on rows that are not 16-byte multiples (StreamTiling::row_boxes, row_residues): from this many tiles per SM
// (perf-log step 193: 31 won 5x, 2.4 and 5 lost 12-15 %; between them unmeasured).
constexpr int64_t kStreamRowBoxesMinTilesPerSm = 8;
// Every-phase tiles rotate their phases (StreamTiling::rotation) in 16-bit and IEEE; TF32 only where
// blocks walk this many tiles (perf-log step 100: T4 -2 %, while one-tile blocks lost 1-3 %).
constexpr int64_t kStreamRotateMinTilesPerBlockTf32 = 16;
// Forced onto the streaming kernel, 16-bit layers whose y stays in Hopper's 50 MB L2 try one phase per
// block first (so that every phase's part of a 32-byte sector arrives before the sector goes back to
// DRAM). AUTO takes no one-phase blocks since perf-log step 177: the tap-major kernel ran S11 and T6
// 17-21 % faster in 16-bit.
constexpr int64_t kPhaseBlockMaxOutputBytes = int64_t{64} << 20;
// AUTO takes phase blocks of channel groups (every phase per block) of at least kChannelGroupMinN
// channels (IEEE: any; step 177: TF32 T6's groups of 32 ran 28 % slower than the tap-major kernel, as
// L2's did in 16-bit, step 79), in fp32 from kChannelGroupMinTilesFp32 tiles per block (step 180:
// HiFi-GAN's up2 in training at 4 faster streamed), in 16-bit from kChannelGroupMinTiles16 and only
// at the y sizes measured faster (plan.cpp, prefers_phase_blocks); with rotated phases
// (StreamTiling::rotation) at any y size (X1 bf16: 11.5 ms, the implicit GEMM 14.6).
constexpr int64_t kChannelGroupMinTilesFp32 = 2;
constexpr int64_t kChannelGroupMinTiles16 = 32;
constexpr int kChannelGroupMinN = 64;
constexpr int64_t kChannelGroupMaxOutputBytes16 = int64_t{1} << 30;
// Where phase blocks walk at least kPhaseBlockPaceMinTiles tiles each, the stride blocks of one tile
// sequence run as a thread-block cluster, paced so that no block starts loading tile i before every
// peer has stored tile i - kPhaseBlockLead: each phase writes part of every 32-byte sector of y, and a
// sector whose parts arrive far apart costs DRAM traffic (perf-log step 78). Shorter walks lose more
// to the paced pipeline fill than they gain (S11: 6 tiles per block, 10 % slower paced).
constexpr int kPhaseBlockLead = 2;
constexpr int kPhaseBlockPaceRing = 2 * kPhaseBlockLead;  // mbarriers; >= 2 x lead (parities alias)
constexpr int64_t kPhaseBlockPaceMinTiles = 8;
constexpr int kPhaseBlockXParts = 2;       // StreamTiling::x_parts where the chunks allow it,
constexpr int kPhaseBlockPartsPhases = 2;  // for IEEE channel groups of this many phases
struct StreamTiling {
  bool phase_blocks = false;  // the phase-block variant (64-position tiles, stores from the accumulators)
  int32_t block_phases = 1;   // phase blocks: phases per block, 1 (one phase, every channel) or the stride
                              // (every phase, one channel group)
  int32_t groups = 1;         // phase blocks: channel groups of n channels (block_phases == stride)
  // Phases rotated by this much, so that stores start aligned (q_first then puts every tile's first
  // output on a multiple of kStreamLaneOutputs, see lay_out_row in plan_stream.cpp): 16-bit channel
  // groups at stride 2 with an odd padding (HiFi-GAN-style K 4, padding 1) rotate by 1, so that a
  // thread's outputs of two neighbouring positions leave as one 8-byte store (perf-log steps 97, 101:
  // T8 16-bit -12 %, then -5 %; fp32 lost 5-6 % to it, so stays in order); every-phase tiles rotate by
  // padding % stride, so that the store warps write whole vectors (step 100).
  // Output slot k of row q holds phase (k + rotation) % stride, one position left (q - 1) for
  // k < stride - rotation: outputs q*stride + k - (padding - rotation + stride). 0: phases in order.
  int32_t rotation = 0;
  int32_t positions = kStreamPositions;  // q per tile
  // Every-phase tilings: consumer warpgroups taking the block's tiles in turn, each with its own staging; the x
  // stages a multiple of it (consumer h owns stages h, h + consumers, ...). Three for 16-bit, whose consumers
  // set the pace (perf-log steps 211-212), where they fit; else two.
  int32_t consumers = 2;
  int32_t n = 0;        // wgmma N: C_out rounded up to kStreamRowStep (channel groups: the group width)
  int32_t k_step = 0;   // reduction per wgmma: 8 (tf32) or 16 (fp16/bf16) channels of one tap
  int32_t ci_pad = 0;   // C_in rounded up to k_step; TMA zero-fills the extra rows
  int32_t chunks = 0;   // 128-byte rows of packed W^T per output channel (4 k-steps each), all phases
  int32_t phase_chunk[kStreamMaxPhases + 1] = {};  // phase r's chunks: [phase_chunk[r], phase_chunk[r+1])
  int32_t phase_steps[kStreamMaxPhases] = {};      // its k-steps: taps * ci_pad / k_step (tap-major)
  int32_t x_base = 0;   // window start relative to the tile's first q: q_first - max_shift rounded down
                        // to 16 bytes (TMA box starts), minus q_first
  int32_t x_cols = 0;   // window width in positions: the tile, the taps' reach and the rounding,
                        // padded to 8 (mod 16) so a fragment's 4 channel rows hit distinct banks
  int32_t stages = 0;   // x windows in flight
  bool ieee = false;    // fp32 IEEE as 3xTF32: W^T packed as tf32 big and small parts (two images)
  int64_t q_first = 0;  // the first tile's q: padding / stride (q*stride - padding is its first output)
  int64_t tiles_per_row = 0, tiles = 0, grid = 0;  // phase blocks: grid is a multiple of the block
                                                   // kinds (the stride, or the channel groups)
  int32_t tile_run = 1;  // a block's runs of consecutive tiles (kStreamTileRun where measured faster; the
                         // kernels compile runs for TF32 every-phase tilings and channel-group blocks)
  int32_t cluster = 1;  // phase blocks: CTAs per cluster, the stride where paced (kPhaseBlockLead), else 1
  // Phase blocks: each x window arrives as x_parts boxes of ci_pad / x_parts channels, each with its
  // own barriers, and the consumers reduce over the first part (every phase and tap) before the next,
  // releasing it meanwhile: the producer refills part of a window while the consumer still computes.
  // Each consumer holds its tile's window until its tile ends, and next to fp32 W^T only two windows
  // fit (T8: 29 % of the stall samples on the x barrier, perf-log step 79). IEEE only (steps 131-132):
  // two parts made T8 IEEE 16 % faster on both the H100 and the H200, but TF32 14 % slower on the
  // H100 (19 % faster on the H200), 16-bit (four windows) 4-5 % slower, four parts slower than two. 1: one box.
  int32_t x_parts = 1;
  // x rows that are not 16-byte multiples (any length of audio), which a TMA map cannot step through:
  // each window arrives as one bulk copy (cp.async.bulk, no tensor map) per channel row of x read flat,
  // issued by the producer warp's lanes. A copy starts on 16 bytes, so up to 16 bytes left of the window
  // (x_cols leaves room for that), and each thread reads its rows that far right. A copy reads past its
  // own row at the row's ends, so the consumer of a tile at either end zeroes the columns outside the
  // row. Every-phase tilings, where x as a whole is a 16-byte multiple (so no copy ends inside a 16-byte
  // piece of it), only.
  bool row_boxes = false;
  // 16-bit such rows where C_in makes a tap 2 or 4 k-steps (C_in 32, 64): instead of row boxes, R = 8 TMA
  // maps, one per residue of the rows' flat starts modulo R, each window R boxes of C_in / R rows landing
  // shifted by their residue's fixed amount, groups `residue.group_elems` apart (src/row_residues.hpp). The
  // consumer of a row's first tile zeroes what its maps read left of the row (the previous row's end).
  // fp32 stays on row boxes, which its transposed slots make about as fast (perf-log step 201: TF32 KB74 on
  // rows of 131071 1 % and IEEE 7 % slower on residue maps).
  bool row_residues = false;
  // 16-bit rows of y at stride 1 that do not start on whole store vectors (L_out, or the first tile's output,
  // not a multiple of kStreamLaneOutputs: any odd audio length): the consumers stage each row skewed by its
  // alignment, in rows kSkewRowPad bytes longer than its outputs (src/skewed_rows.hpp), so that the store
  // warps still write vectors (StreamStores::Skewed). Perf-log steps 207-208: KB74 on rows of 131071 (X3)
  // 16-bit -7 %, with y rows of 131085 -8 %; at stride 2 (T4 on rows of 32767) step 207 lost 2 %, so
  // not there.
  bool skewed_rows = false;
  ResidueStage residue{};  // residue maps: the stage's groups, as the kernel reads them
  bool odd_rows() const { return row_boxes || row_residues; }
  int64_t image_bytes = 0;   // packed W^T of every phase and channel group (both images for IEEE)
  int64_t weight_bytes = 0;  // the part of it a block keeps in shared memory (phase blocks: one
                             // phase's rows, or one channel group's)
  int64_t stage_bytes = 0, staging_bytes = 0, smem_bytes = 0;
  int64_t zero_bytes = 0;  // a zero block the fragment loads of steps past the reduction read
  // Launched as a programmatic dependent of the W^T packing kernel, its set-up overlapping the
  // packing: tilings of every phase whose blocks walk at most kStreamOverlapMaxTilesPerBlock tiles,
  // phase blocks outside clusters up to kPhaseBlockOverlapMaxTilesPerBlock (perf-log step 91: small
  // fp32 layers 4-8 % faster that way, KB74 3-5 % slower; step 110: T4 (31 tiles per block) 1-2 %
  // and S11 16-bit phase blocks (5.3) 4 % faster, KB74 16-bit 13-20 % slower).
  bool overlap_packing = false;
  // TMA brings x's windows into L2 in 256-byte promotions instead of 128 (every-phase tilings: a
  // window's rows are 300-odd bytes from no particular alignment, and the neighbouring tiles, which
  // other blocks read at about the same time, continue them; perf-log step 114: KB74 16-bit -2 %,
  // fp32 unchanged, phase blocks (T8 16-bit) +15 %, so not those).
  bool wide_x_fetch() const { return !phase_blocks; }
};
constexpr int64_t kStreamOverlapMaxTilesPerBlock = 32;
constexpr int64_t kPhaseBlockOverlapMaxTilesPerBlock = 8;

// Can the streaming kernel run this problem on this device? Fills `t` when it can; else says why.
bool plan_wgmma_stream(const Shape& s, int32_t dtype, int32_t math, const Polyphase& poly, const DeviceInfo& dev,
                       StreamTiling& t, std::string& why);

// The first output of the streaming kernel's first tile of a row, from q_first and the rotation (see
// StreamTiling::rotation): in (-stride, 0] with phases in order; rotated, a multiple of
// kStreamLaneOutputs at or before 0.
int64_t stream_out_offset(const Shape& s, const StreamTiling& t);

// How the store warps of every-phase tiles (src/cuda/wgmma_stream.cu) write y's rows, y's first element at
// byte address `y`: as vectors of kStreamLaneOutputs where every tile's rows start on one (rows and the first
// tile's output multiples of it, y on a vector's bytes); from a staging skewed row by row where the plan
// stages them so (StreamTiling::skewed_rows), whatever y's alignment; else element by element (fp32, where
// vectors measured no faster, phase blocks, which store from their own staging, and 16-bit rows of whole
// vectors in a y that does not start on one).
enum class StreamStores { Vectors, Skewed, Elements };
StreamStores stream_stores(const Shape& s, const StreamTiling& t, int32_t dtype, uint64_t y);

// Phase blocks run as clusters of t.cluster CTAs: the planned grid cut to whole clusters the device
// holds at once (`resident`, its occupancy query for the kernel), so that no cluster waits for another
// to finish. Always a multiple of the cluster, at least one cluster.
int64_t resident_cluster_grid(int64_t grid, int32_t cluster, int64_t resident);

// Narrow kernel (src/cuda/narrow.cu) for few output channels x taps (Conv-TasNet's decoder, HTDemucs'
// last layers): there the tensor-core tiles would run nearly empty and the layer is memory-bound, so
// plain FFMA reads x once. A block takes a window of `cols` input positions l of one batch row and
// computes Z[m][l] = sum_ci W[ci][m] x[ci][l] (m = co*K + k) in registers, the reduction shared out
// among `slices` thread groups; the slices' partial Z meet in shared memory, where each output sums
// its taps (the shift-add). Windows overlap by `halo` positions (the taps' reach) so that each owns
// the outputs of its last `owned` positions q. groups 1, fp32, fp16, bf16. Two ways to reduce:
// - FMA (IEEE, exact fp32; C_out*K <= 32): thread (slice, j) sums its columns over its slice's channels;
// - mma (TF32 and 16-bit, C_out*K <= 64, src/cuda/narrow_mma.cu): warp w computes columns 8w..8w+7 of
//   every row over all channels with mma.sync m16n8 (one m-tile per 16 rows), then columns
//   64 + 8w.. in a second pass where the taps' reach needs wider windows: a tenth of the FMA
//   kernel's instructions, which left it latency-bound at 30 % of the copy floor (perf-log step 105).
struct NarrowTiling {
  bool mma = false;          // the mma.sync reduction (slices 1, positions 0, cols = warps x 8)
  int32_t k_steps = 0;       // mma: channel steps of 8 (TF32) or 16 (16-bit) covering C_in
  int32_t rows = 0;          // Z rows per position: C_out*K rounded up to a power of two >= kNarrowMinRows
  int32_t positions = 0;     // positions per thread: narrow_positions(rows)
  int32_t slices = 1;        // thread groups sharing out the reduction (a power of two)
  int32_t ci_per_slice = 0;  // input channels per slice (the last may have fewer, or none)
  int32_t cols = 0;          // window width: kNarrowThreads / slices * positions
  int32_t halo = 0;          // poly.max_shift
  int32_t owned = 0;         // cols - halo
  int32_t slice_pitch = 0;   // floats from one slice's partial Z to the next's
  int64_t q_first = 0;       // padding / stride: the first window owns q from here
  int64_t tiles_per_row = 0, tiles = 0, grid = 0;
  int64_t smem_bytes = 0;
};

constexpr int kNarrowThreads = 256;
constexpr int kNarrowMinRows = 8;
constexpr int kNarrowMaxRows = 32;
constexpr int kNarrowMaxSlices = 16;     // 16 threads per slice: 64 bytes of fp32 per warp load
// Accumulators per thread (positions x rows, at least one position): each weight read from shared
// memory serves every position of the thread. 2 blocks of 256 threads per SM (128 registers).
constexpr int kNarrowAccumulators = 64;
constexpr int narrow_positions(int rows) { return rows >= kNarrowAccumulators ? 1 : kNarrowAccumulators / rows; }
constexpr int narrow_blocks_per_sm(int) { return 2; }
constexpr int kNarrowMmaRowTile = 16;       // mma.sync m16: rows per m-tile
constexpr int kNarrowMmaMaxRows = 64;       // mma: up to 4 m-tiles
constexpr int kNarrowMmaStepTf32 = 8;       // channels per m16n8k8 (tf32)
constexpr int kNarrowMmaStep16 = 16;        // channels per m16n8k16 (fp16, bf16)
constexpr int kNarrowMmaFragmentBytes = 512;  // one A fragment: 32 lanes x 4 words
// x loads per lane issued before their MMAs: 16 TF32 or 8 16-bit channel steps, 128 channels, a batch.
constexpr int kNarrowMmaLoadsInFlight = 32;
constexpr int kNarrowMmaBatchChannels = 128;
constexpr int kNarrowMmaWarpColumns = 8;    // mma: one n-tile of positions per warp
constexpr int kNarrowMmaCols = kNarrowThreads / 32 * kNarrowMmaWarpColumns;  // a pass: 64 positions
constexpr int kNarrowMmaMaxPasses = 8;  // windows of up to 8 passes (512 positions) for long tap reaches
constexpr int kNarrowAutoMaxRowsTf32 = 64;  // AUTO, TF32: C_out*K up to this (L5, perf-log step 107)
constexpr int kNarrowAutoMaxRows = 16;     // AUTO: C_out*K up to this (perf-log step 42),
constexpr int kNarrowMaxOutChannels = 16;  // and at most this many output channels

// Can the narrow kernel run this problem on this device? Fills `t` when it can; else says why.
// The mma reduction for TF32 and 16-bit, the FMA one for IEEE.
bool plan_narrow(const Shape& s, int32_t dtype, int32_t math, const Polyphase& poly, const DeviceInfo& dev,
                 NarrowTiling& t, std::string& why);

struct Plan {
  Shape shape;
  int32_t dtype = CONVT1D_FLOAT32;
  int32_t math = CONVT1D_MATH_TF32;
  bool has_bias = false;
  KernelKind kernel = KernelKind::Direct;
  std::string reason;  // why this kernel (for logs, `convt1d check -v`, tests)
  // What AUTO runs instead of Wgmma when the operands are not 16-byte aligned (TMA needs that).
  KernelKind unaligned_fallback = KernelKind::Direct;
  Polyphase poly;
  GemmTiling gemm;
  WgmmaTiling wgmma;
  StreamTiling stream;
  NarrowTiling narrow;
};

// IEEE (3xTF32) on the mma.sync kernel: reduction terms (taps x channels) per accumulation chain. On
// one-signed data its rel. error grows by ~2e-8 per term (perf-log step 94: 1.03e-5 at 512 terms,
// 5.2e-6 at 256).
constexpr int64_t kIeeeMaxChainTerms = 256;
// IEEE on the streaming kernels: a phase's reduction at most this many terms (one chain; ~1.6e-8 per
// term on one-signed data: 9.1e-6 at 576, 7.6e-6 at 512).
constexpr int64_t kStreamIeeeMaxTerms = 384;

// Can the implicit-GEMM kernel run this problem on this device? Fills `tiling` when it can;
// otherwise returns false and says why in `why`. With max_chain > 0 (IEEE: kIeeeMaxChainTerms) no
// accumulation chain holds more terms per phase than that, where chunks allow: resident reductions
// by their chunk size, streamed ones also by split-K.
bool plan_implicit_gemm(const Shape& s, int32_t dtype, const Polyphase& poly, const DeviceInfo& dev,
                        GemmTiling& tiling, std::string& why, int64_t max_chain = 0);

// Row pitch (elements) of streamed raw weight rows: 16-byte multiple, fewest bank conflicts.
int64_t raw_weight_pitch(int64_t kernel_size, int64_t block_co, int64_t elem);

// Blocks of `smem_bytes` that fit on one SM (the runtime reserves 1 KB per block).
int64_t blocks_per_sm(const DeviceInfo& dev, int64_t smem_bytes);

// The whole plan for a validated problem. Throws ApiError(UNSUPPORTED) when a forced algorithm
// cannot run the problem.
Plan make_plan(const convt1d_problem& p, const DeviceInfo& dev);

// The weights as the plan's kernel reads them once packed (W^T [C_out*K][ci_pitch] rounded to TF32,
// split in IEEE, rows regrouped for tap_pairs): what convt1d_pack_weight writes ahead of
// convt1d_forward_packed calls. bytes 0 (and id 0) where the plan packs no weights per call (every
// kernel but the fp32 tap-major one on W^T; raw_weights tiles read W as stored). Plans with equal ids
// read the same bytes from the same weights: id is a hash of everything the arrangement depends on.
struct PackedLayout {
  int64_t bytes = 0;
  uint64_t id = 0;
};
PackedLayout packed_weight_layout(const Plan& plan);

}  // namespace convt1d::detail
