#include "plan.hpp"

#include <algorithm>
#include <numeric>

namespace convt1d::detail {

Polyphase make_polyphase(int64_t stride, int64_t dilation, int64_t padding, int64_t kernel_size) {
  Polyphase pp;
  const int64_t g = std::gcd(stride, dilation);
  pp.phases = static_cast<int32_t>(stride);
  pp.tap_step = static_cast<int32_t>(stride / g);
  pp.shift_step = static_cast<int32_t>(dilation / g);
  pp.taps.resize(static_cast<size_t>(stride));
  (void)padding;  // phases are defined on u = t + padding, so padding moves tiles, not taps
  for (int64_t r = 0; r < stride; ++r) {
    PhaseTaps t{0, 0, 0};
    // smallest k >= 0 with k*dilation ≡ r (mod stride); exists only when g divides r
    for (int64_t k = 0; k < std::min<int64_t>(kernel_size, stride / g); ++k) {
      if ((k * dilation - r) % stride == 0) {
        t.first_tap = static_cast<int32_t>(k);
        t.first_shift = static_cast<int32_t>((k * dilation - r) / stride);
        t.count = static_cast<int32_t>((kernel_size - 1 - k) / pp.tap_step + 1);
        break;
      }
    }
    if (t.count > 0)
      pp.max_shift = std::max<int32_t>(pp.max_shift, t.first_shift + (t.count - 1) * pp.shift_step);
    pp.taps[static_cast<size_t>(r)] = t;
  }
  return pp;
}

const char* kernel_name(KernelKind k) {
  switch (k) {
    case KernelKind::Cpu: return "cpu";
    case KernelKind::Direct: return "direct";
    case KernelKind::ImplicitGemm: return "implicit_gemm";
    case KernelKind::Wgmma: return "wgmma";
    case KernelKind::GemmCol2im: return "gemm_col2im";
    case KernelKind::WgmmaStream: return "wgmma_stream";
    case KernelKind::Narrow: return "narrow";
  }
  return "?";
}

const char* algorithm_name(int32_t algorithm) {
  switch (algorithm) {
    case CONVT1D_ALGO_AUTO: return "auto";
    case CONVT1D_ALGO_DIRECT: return "direct";
    case CONVT1D_ALGO_IMPLICIT_GEMM: return "implicit_gemm";
    case CONVT1D_ALGO_WGMMA: return "wgmma";
    case CONVT1D_ALGO_WGMMA_STREAM: return "wgmma_stream";
    case CONVT1D_ALGO_NARROW: return "narrow";
  }
  return "?";
}

namespace {

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// Pads a row pitch (in 4-byte words) to ≡ `residue` (mod 32) so that the 4 k-rows a warp's MMA
// fragment touches fall in distinct banks.
int64_t bank_pitch(int64_t words, int64_t residue) {
  int64_t p = words;
  while (p % 32 != residue) ++p;
  return p;
}

constexpr int64_t kMinStages = 2;  // pipeline stages (x window, + raw weights when streamed) in flight
constexpr int64_t kMaxStages = 3;  // where they fit
constexpr int64_t kVectorBytes = 16;        // cp.async / global store width
constexpr int64_t kReservedSmemPerBlock = 1024;
constexpr int64_t kPackMinReuse = 4;     // streams of each weight chunk that repay packing it (a guess: unmeasured)
constexpr int64_t kBarrierBytes = 32;  // the kernel's two mbarriers, 8-byte aligned after the staging buffer

// The most taps any phase has: a phase's reduction is taps x channels.
int64_t most_phase_taps(const Polyphase& poly) {
  int64_t taps = 1;
  for (const PhaseTaps& ph : poly.taps) taps = std::max<int64_t>(taps, ph.count);
  return taps;
}

}  // namespace

// Raw weight rows hold 64 channels x K taps (co-major, as in global memory). Warp lane (tq, gq)
// reads row tq (+4) at column (16*mt + gq (+8))*K + k: pick, among the 16-byte-multiple pitches
// just above the row, the one whose banks collide least (even K forces some 2-way conflicts).
int64_t raw_weight_pitch(int64_t kernel_size, int64_t block_co, int64_t elem) {
  const int64_t vec = kVectorBytes / elem, row = block_co * kernel_size;
  int64_t best = 0, best_worst = 1 << 30;
  for (int64_t pitch = round_up(row, vec); pitch < round_up(row, vec) + 32 * vec; pitch += vec) {
    int64_t worst = 0;
    for (int64_t k = 0; k < std::min<int64_t>(kernel_size, 4); ++k) {
      int64_t count[32] = {};
      for (int64_t tq = 0; tq < 4; ++tq)
        for (int64_t gq = 0; gq < 8; ++gq) {
          // 32-bit words: fp32 element index; 16-bit rows are read at 2*tq (pairs of rows).
          const int64_t r = elem == 4 ? tq : 2 * tq;
          const int64_t word = (r * pitch + gq * kernel_size + k) * elem / 4;
          worst = std::max(worst, ++count[word % 32]);
        }
    }
    if (worst < best_worst) {
      best_worst = worst;
      best = pitch;
    }
  }
  return best;
}


int64_t blocks_per_sm(const DeviceInfo& dev, int64_t smem_bytes) {
  return std::max<int64_t>(1, dev.smem_per_sm / (smem_bytes + kReservedSmemPerBlock));
}

bool plan_implicit_gemm(const Shape& s, int32_t dtype, const Polyphase& poly, const DeviceInfo& dev,
                        GemmTiling& t, std::string& why, int64_t max_chain) {
  if (dev.cc_major < 8) { why = "tensor-core kernel needs sm_80 or newer"; return false; }
  if (dtype == CONVT1D_FLOAT64) { why = "no fp64 tensor-core path"; return false; }
  if (s.stride > kMaxPhases) { why = "stride > " + std::to_string(kMaxPhases); return false; }
  const bool wide = dtype == CONVT1D_FLOAT32;
  const int64_t elem = wide ? 4 : 2;
  const int64_t vec = kVectorBytes / elem;
  t.block_co = kGemmBlockCo;
  t.k_step = wide ? 8 : 16;
  // u = t + padding covers [0, padding + out_length); q tiles start at q = 0.
  const int64_t q_total = (s.padding + s.out_length + s.stride - 1) / s.stride;
  const int64_t co_tiles = (s.out_per_group + t.block_co - 1) / t.block_co;
  const int64_t outer = s.groups * co_tiles * s.batch;
  const int64_t ci_all = round_up(s.in_per_group, t.k_step);

  // Whole reduction resident first (weights loaded once per block, in fragment order); else the
  // reduction runs in chunks whose raw weight rows stream through the pipeline with the x window.
  const int64_t taps = most_phase_taps(poly);
  std::vector<int64_t> chunk_sizes;
  for (int64_t c : {ci_all, int64_t{64}, int64_t{32}, int64_t{16}, int64_t{8}})
    if ((c == ci_all || (c < ci_all && c % t.k_step == 0)) &&
        (max_chain <= 0 || c * taps <= max_chain || c == t.k_step))
      chunk_sizes.push_back(c);
  const int64_t w_pitch = raw_weight_pitch(s.kernel_size, t.block_co, elem);
  auto smem_for = [&](int64_t cc, int64_t q, int64_t stages, GemmTiling& c) -> bool {
    const int64_t chunks = (s.in_per_group + cc - 1) / cc;
    const int64_t items = s.stride * q / kGemmWarpPositions;
    const bool stream_w = chunks > 1;
    if (q > kGemmWarpPositions && q * s.stride > kGemmMaxTileOutputs) return false;
    if (stream_w && items > kGemmWarps) return false;  // accumulators must persist across chunks
    const int64_t w_rows = wide ? cc : cc / 2;
    const int64_t cols_needed = round_up(poly.max_shift + q + vec, vec);
    const int64_t x_cols = wide ? bank_pitch(cols_needed, 8) : 2 * bank_pitch((cols_needed + 1) / 2, 4);
    // Staging rows hold outputs in the output type, + one vector of per-row alignment shift.
    const int64_t y_cols = q * s.stride + vec;
    const int64_t y_pitch = wide ? bank_pitch(y_cols, 4) : 2 * bank_pitch((y_cols + 1) / 2, 4);
    c.q_tile = static_cast<int32_t>(q);
    c.ci_chunk = static_cast<int32_t>(cc);
    c.chunks = static_cast<int32_t>(chunks);
    c.items = static_cast<int32_t>(items);
    c.w_rows = static_cast<int32_t>(w_rows);
    c.x_cols = static_cast<int32_t>(x_cols);
    c.y_pitch = static_cast<int32_t>(y_pitch);
    c.stages = static_cast<int32_t>(stages);
    c.stream_w = stream_w;
    // Streamed weights are pre-packed in fragment order once per call when each chunk is streamed
    // often enough to repay the pass; else raw rows are streamed and converted at fragment load.
    const int64_t reuse = s.batch * ((q_total + q - 1) / q);
    c.pack_w = stream_w && reuse >= kPackMinReuse;
    c.w_pitch = stream_w && !c.pack_w ? static_cast<int32_t>(w_pitch) : 0;
    const int64_t fragment_bytes = s.kernel_size * w_rows * t.block_co * 4;  // one chunk in fragment order
    const int64_t resident_w = stream_w ? 0 : fragment_bytes;
    const int64_t stage_bytes = cc * x_cols * elem + (c.pack_w ? fragment_bytes : cc * c.w_pitch * elem);
    c.smem_bytes = resident_w + stages * stage_bytes + t.block_co * y_pitch * elem + kBarrierBytes;
    return c.smem_bytes <= dev.smem_per_block_optin;
  };
  auto tiles_for = [&](int64_t q) { return outer * ((q_total + q - 1) / q); };
  // The largest reduction chunk that fits, with 3 pipeline stages where they fit, then the largest
  // q tile that still gives every SM a tile, else the smallest q tile that fits.
  for (int64_t cc : chunk_sizes) {
    std::vector<GemmTiling> fits;
    for (int64_t q : {256, 128, 64, 32})
      for (int64_t stages : {kMaxStages, kMinStages}) {
        GemmTiling c = t;
        if (smem_for(cc, q, stages, c)) {
          fits.push_back(c);
          break;
        }
      }
    if (fits.empty()) continue;
    const GemmTiling* pick = &fits.back();
    for (auto it = fits.rbegin(); it != fits.rend(); ++it)
      if (tiles_for(it->q_tile) >= dev.sm_count) pick = &*it;
    t = *pick;
    break;
  }
  if (t.ci_chunk == 0) {
    why = "no tile of this problem (kernel_size " + std::to_string(s.kernel_size) + ", stride " +
          std::to_string(s.stride) + ") fits in " + std::to_string(dev.smem_per_block_optin) +
          " bytes of shared memory";
    return false;
  }
  t.q_tiles = (q_total + t.q_tile - 1) / t.q_tile;
  t.co_tiles = co_tiles;
  t.tiles = outer * t.q_tiles;
  t.packed_bytes = t.pack_w ? s.groups * co_tiles * t.chunks * s.kernel_size * t.w_rows * t.block_co * 4 : 0;
  // Split-K: when tiles leave SMs idle and the weights stream, each tile's chunks are shared out
  // among `splits` work units whose partial sums meet by fp32 atomics in zeroed fp32 memory (y, or a
  // workspace for 16-bit outputs, so that partial sums are rounded once); split 0 adds the bias.
  t.splits = 1;
  t.chunks_per_split = t.chunks;
  if (t.stream_w && t.tiles < dev.sm_count) {
    // 16-bit outputs stage and accumulate fp32 (into a workspace rounded once at the end).
    const int64_t y_cols = t.q_tile * s.stride + kVectorBytes / 4;
    const int64_t y_pitch = wide ? t.y_pitch : bank_pitch(y_cols, 4);
    const int64_t smem = t.smem_bytes - t.block_co * t.y_pitch * elem + t.block_co * y_pitch * 4;
    if (smem <= dev.smem_per_block_optin) {
      const int64_t want = std::min<int64_t>(t.chunks, (dev.sm_count + t.tiles - 1) / t.tiles);
      t.chunks_per_split = static_cast<int32_t>((t.chunks + want - 1) / want);
      t.splits = static_cast<int32_t>((t.chunks + t.chunks_per_split - 1) / t.chunks_per_split);
      if (t.splits > 1) {
        t.y_pitch = static_cast<int32_t>(y_pitch);
        t.smem_bytes = smem;
      } else {
        t.chunks_per_split = t.chunks;
      }
    }
  }
  // max_chain (IEEE: the tensor cores truncate their fp32 sums at every add): a streamed reduction is
  // cut into split-K units of at most that many terms per output, whose partial sums meet in fp32
  // atomics (rounded to nearest); resident ones were kept within it by the chunk sizes above.
  if (max_chain > 0 && t.stream_w) {
    const int64_t cap = std::max<int64_t>(1, max_chain / (t.ci_chunk * taps));
    if (t.chunks_per_split > cap) {
      t.chunks_per_split = static_cast<int32_t>(cap);
      t.splits = static_cast<int32_t>((t.chunks + cap - 1) / cap);
    }
  }
  // The kernel runs 12 warps of up to 168 registers: one persistent block per SM.
  t.grid = std::min<int64_t>(t.tiles * t.splits, dev.sm_count);
  return true;
}

namespace {

// Where the wgmma kernels beat the mma.sync one (the suite in bf16 and fp32-TF32, every case timed
// with both kernels forced: docs/perf-log.md steps 19-20 and 24):
// - deep reductions always; medium ones on short rows in 16-bit (on long rows of few channels, T8
//   and KB74, the mma.sync kernel's streaming beats a GEMM with an epilogue pass over Z), and on all
//   rows in TF32, where mma.sync runs at half its 16-bit rate;
// - shallow reductions on rows of up to 64k positions (the mma.sync kernel's persistent streaming is
//   built for longer ones: T4, KB74; re-swept after the faster epilogue, step 30: P1 and T2 moved),
//   or with so few output channels that its 64-channel tiles run mostly empty.
// Step 24 also kept TF32 layers whose tiles would leave the GPU mostly idle on the mma.sync kernel
// (S1, S14, S22, S23); since the TF32 wgmma kernel reads x^T through TMA (steps 43-50) it is the
// faster one on all four (step 80: S22 tf32 0.0295 vs 0.0401 ms, IEEE 0.0356 vs 0.0405).
bool prefers_wgmma(const Shape& s, const WgmmaTiling& t) {
  if (s.in_per_group >= kWgmmaDeepChannels) return true;
  if (s.in_per_group >= kWgmmaMediumChannels)
    return t.tf32 || s.batch * s.in_length <= kWgmmaMediumMaxPositions;
  return s.batch * s.in_length <= kWgmmaShallowMaxPositions || s.out_per_group <= kWgmmaNarrowOutChannels;
}

// Where the streaming kernel beats the others (the suite layers it takes, each kernel forced,
// docs/perf-log.md steps 39 and 140): in fp32 from one tile per SM (T2, T4, P1; S4, S7, S15 and X2,
// one block each, run faster on the tap-major kernel since its producer stopped dividing), at stride 1
// from 32 tiles (not re-measured); in 16-bit, where the others' loads are half as wide, only with enough
// tiles to keep the blocks streaming (T4, T2, KB74; P1, S3, S4, S7, S15 and X2 stay faster elsewhere).
// Phase blocks: never one phase per block (perf-log step 76 took them for 16-bit layers whose y
// stays in L2; step 177 measured S11 and T6 17-21 % faster on the tap-major kernel since). Channel
// groups (step 79): TF32 T8 0.86 -> 0.54 ms, X1 32 -> 22.5; groups of 32 only in IEEE (T8 1.26 -> 1.06,
// step 80; 0.87 vs 1.08 in step 177), as TF32 and 16-bit ones lose to the tap-major kernel (L2 bf16
// 0.88 vs 0.62 ms, step 79; T6 TF32 0.220 vs 0.159, S11 TF32 0.051 vs 0.036, step 177); in fp32 from a
// few tiles per block (step 180: HiFi-GAN's up2 and BigVGAN's up4 in training, 4 and 31 per block,
// 13-28 % faster than the tap-major kernel), in 16-bit from 32 with y up to 1 GiB (X1's 8.6 GB lost,
// 19.4 vs 14.5 ms) unless the phases are rotated.
bool prefers_phase_blocks(const convt1d_problem& p, const Shape& s, const StreamTiling& t) {
  if (t.block_phases == 1 || (t.n < kChannelGroupMinN && !t.ieee)) return false;
  const int64_t tiles_per_block = t.tiles * t.groups / std::max<int64_t>(1, t.grid);
  if (p.dtype == CONVT1D_FLOAT32) return tiles_per_block >= kChannelGroupMinTilesFp32;
  constexpr int64_t kElem16 = 2;  // bytes of an fp16 / bf16 output
  return tiles_per_block >= kChannelGroupMinTiles16 &&
         (t.rotation != 0 || s.y_elements() * kElem16 <= kChannelGroupMaxOutputBytes16);
}

bool prefers_stream(const convt1d_problem& p, const Shape& s, const StreamTiling& t, const DeviceInfo& dev) {
  if (t.phase_blocks) return prefers_phase_blocks(p, s, t);
  // Row boxes: one copy per channel row and tile, and the row ends zeroed. Against the kernels AUTO took
  // on such rows before (docs/perf-log.md step 193, H200): 5x faster at 31 tiles per SM (T4's channels),
  // 12-15 % slower at 2.4 and 5 (P1, HTDemucs' tdec0 on rows of 39999 and 85995). Residue maps keep the
  // same threshold (their row-start fix-ups are the same kind of per-tile cost).
  if (t.odd_rows() && t.tiles < kStreamRowBoxesMinTilesPerSm * dev.sm_count) return false;
  if (p.dtype == CONVT1D_FLOAT32)
    return t.tiles >= (s.stride == 1 ? kStreamMinTilesFp32OnePhase : int64_t{kStreamMinWavesFp32} * dev.sm_count);
  const bool vector_rows = stream_out_offset(s, t) % kStreamLaneOutputs == 0 && s.out_length % kStreamLaneOutputs == 0;
  if (vector_rows && s.stride == 1) return t.tiles >= kStreamMinTiles16OnePhase;
  return t.tiles >= int64_t{vector_rows ? kStreamMinWaves16Vector : kStreamMinWaves16} * dev.sm_count;
}

}  // namespace

convt1d_problem col2im_gemm_problem(const convt1d_problem& p) {
  convt1d_problem g = p;
  g.out_channels = p.out_channels * p.kernel_size;
  g.kernel_size = 1;
  g.stride = 1;
  g.padding = 0;
  g.output_padding = 0;
  g.dilation = 1;
  g.groups = 1;
  g.has_bias = 0;
  // fp32 problems keep their math (TF32, or IEEE as 3xTF32); fp16 and bf16 ones run on fp32 copies of
  // x and W, whose values TF32 holds exactly (cuda/col2im.cu).
  g.math = p.dtype == CONVT1D_FLOAT32 ? p.math : CONVT1D_MATH_TF32;
  g.dtype = CONVT1D_FLOAT32;
  g.device = CONVT1D_DEVICE_CUDA;
  g.algorithm = CONVT1D_ALGO_WGMMA;
  return g;
}

Col2imWorkspace col2im_workspace(const Shape& s, int32_t dtype) {
  Col2imWorkspace ws;
  ws.z = static_cast<double>(s.batch) * static_cast<double>(s.out_channels * s.kernel_size) *
         static_cast<double>(s.in_length);
  if (dtype != CONVT1D_FLOAT32) {
    ws.x = static_cast<double>(s.batch * s.in_channels) * static_cast<double>(s.in_length);
    ws.w = static_cast<double>(s.w_elements());
  }
  return ws;
}

namespace {

// Whether AUTO runs a problem as GEMM + col2im: a kernel too long for the wgmma tile's rows, whose
// workspace (B x C_out*K x L_in fp32, and fp32 copies of 16-bit x and W) stays bounded and whose GEMM
// the wgmma kernel takes.
bool prefers_gemm_col2im(const convt1d_problem& p, const Shape& s, const DeviceInfo& dev) {
  if (!dev.wgmma || s.groups != 1 || s.kernel_size <= kWgmmaTf32MaxRows) return false;
  if (col2im_workspace(s, p.dtype).bytes() > static_cast<double>(kCol2imMaxWorkspaceBytes)) return false;
  WgmmaTiling t;
  std::string why;
  return plan_wgmma_tf32(shape_of(col2im_gemm_problem(p)), dev, t, why, p.math == CONVT1D_MATH_IEEE);
}

}  // namespace

Plan make_plan(const convt1d_problem& p, const DeviceInfo& dev) {
  Plan plan;
  plan.shape = shape_of(p);
  plan.dtype = p.dtype;
  plan.math = p.math;
  plan.has_bias = p.has_bias != 0;
  if (p.device == CONVT1D_DEVICE_CPU) {
    if (p.algorithm != CONVT1D_ALGO_AUTO && p.algorithm != CONVT1D_ALGO_DIRECT)
      fail(CONVT1D_UNSUPPORTED, std::string("convt1d: algorithm ") + algorithm_name(p.algorithm) +
                                    " runs on CUDA only, got device cpu");
    plan.kernel = KernelKind::Cpu;
    plan.reason = "cpu device";
    return plan;
  }
  const Shape& s = plan.shape;
  plan.poly = make_polyphase(s.stride, s.dilation, s.padding, s.kernel_size);
  std::string why;
  const bool ieee = p.dtype == CONVT1D_FLOAT32 && p.math == CONVT1D_MATH_IEEE;
  const bool gemm_ok =
      s.batch > 0 && plan_implicit_gemm(s, p.dtype, plan.poly, dev, plan.gemm, why, ieee ? kIeeeMaxChainTerms : 0);
  std::string wgmma_why;
  const bool fp32 = p.dtype == CONVT1D_FLOAT32;  // TF32, or IEEE as 3xTF32
  const bool wgmma_ok =
      s.batch > 0 && (fp32 ? plan_wgmma_tf32(s, dev, plan.wgmma, wgmma_why, p.math == CONVT1D_MATH_IEEE)
                           : plan_wgmma(s, p.dtype, dev, plan.wgmma, wgmma_why));
  std::string stream_why;
  const bool stream_ok = s.batch > 0 && plan_wgmma_stream(s, p.dtype, p.math, plan.poly, dev, plan.stream, stream_why);
  std::string narrow_why;
  const bool narrow_ok = s.batch > 0 && plan_narrow(s, p.dtype, p.math, plan.poly, dev, plan.narrow, narrow_why);
  // A forced algorithm runs where its planner accepted the problem, else the call fails saying why.
  auto force = [&plan](KernelKind kind, bool ok, const char* name, const std::string& refusal) {
    if (!ok)
      fail(CONVT1D_UNSUPPORTED, std::string("convt1d: algorithm ") + name + " cannot run this problem: " + refusal);
    plan.kernel = kind;
    plan.reason = "forced";
  };
  switch (p.algorithm) {
    case CONVT1D_ALGO_DIRECT:
      force(KernelKind::Direct, true, "direct", "");
      break;
    case CONVT1D_ALGO_IMPLICIT_GEMM:
      force(KernelKind::ImplicitGemm, gemm_ok, "implicit_gemm", why);
      break;
    case CONVT1D_ALGO_WGMMA:
      force(KernelKind::Wgmma, wgmma_ok, "wgmma", wgmma_why);
      break;
    case CONVT1D_ALGO_WGMMA_STREAM:
      force(KernelKind::WgmmaStream, stream_ok, "wgmma_stream", stream_why);
      break;
    case CONVT1D_ALGO_NARROW:
      force(KernelKind::Narrow, narrow_ok, "narrow", narrow_why);
      break;
    default:
      // Depthwise and tiny-channel problems have no reduction worth a tensor core.
      if (gemm_ok && s.in_per_group * s.kernel_size >= 8 && s.out_per_group >= 4) {
        plan.kernel = KernelKind::ImplicitGemm;
        plan.reason = "tensor cores";
      } else {
        plan.kernel = KernelKind::Direct;
        plan.reason = gemm_ok ? "too little reduction for tensor cores" : why;
      }
      const int64_t narrow_auto_rows =
          p.dtype == CONVT1D_FLOAT32 && p.math == CONVT1D_MATH_TF32 ? kNarrowAutoMaxRowsTf32 : kNarrowAutoMaxRows;
      if (narrow_ok && s.out_channels <= kNarrowMaxOutChannels && plan.narrow.rows <= narrow_auto_rows) {
        plan.kernel = KernelKind::Narrow;
        plan.reason = "few output channels x taps: a memory-bound reduction, plain FMA";
      } else if (stream_ok && prefers_stream(p, s, plan.stream, dev)) {
        plan.unaligned_fallback = plan.kernel;
        plan.kernel = KernelKind::WgmmaStream;
        plan.reason = "few output channels on long rows: streamed through Hopper tensor cores";
      } else if (wgmma_ok && prefers_wgmma(s, plan.wgmma)) {
        plan.unaligned_fallback = plan.kernel;
        plan.kernel = KernelKind::Wgmma;
        plan.reason = "large reduction on Hopper tensor cores";
      } else if (s.batch > 0 && prefers_gemm_col2im(p, s, dev)) {
        plan.unaligned_fallback = plan.kernel;
        plan.kernel = KernelKind::GemmCol2im;
        plan.reason = "kernel longer than a tile's taps: GEMM on Hopper tensor cores, then col2im";
      }
  }
  return plan;
}

PackedLayout packed_weight_layout(const Plan& plan) {
  const WgmmaTiling& t = plan.wgmma;
  const Shape& s = plan.shape;
  if (plan.kernel != KernelKind::Wgmma || !t.tf32 || t.raw_weights) return {};
  PackedLayout layout;
  layout.bytes = s.out_per_group * s.kernel_size * t.ci_pitch * static_cast<int64_t>(sizeof(float));
  // splitmix64's finaliser over the fields, in order; kPackedLayoutVersion changes with the arrangement.
  constexpr uint64_t kPackedLayoutVersion = 1;
  uint64_t h = 0;
  for (const int64_t v : {static_cast<int64_t>(kPackedLayoutVersion), s.in_channels, s.out_per_group, s.kernel_size,
                          static_cast<int64_t>(t.ci_pitch), static_cast<int64_t>(t.ieee),
                          t.tap_pairs ? s.stride : int64_t{0}}) {
    h += static_cast<uint64_t>(v) + 0x9e3779b97f4a7c15ULL;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
    h ^= h >> 31;
  }
  layout.id = h == 0 ? 1 : h;  // 0 stands for "nothing packed"
  return layout;
}

}  // namespace convt1d::detail
