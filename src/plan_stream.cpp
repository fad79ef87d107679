// Tiling of the streaming kernel (plan.hpp, StreamTiling): which problems it takes, the x window
// each tile reads, and the pipeline depth that fits next to the resident weights.
#include <algorithm>
#include <limits>
#include <numeric>

#include "plan.hpp"
#include "row_residues.hpp"
#include "skewed_rows.hpp"

namespace convt1d::detail {

namespace {

constexpr int64_t kSwizzleRowBytes = 128;      // one 128B-swizzle row of W^T or of the y staging
constexpr int64_t kStepBytes = 32;             // W^T bytes per wgmma step: 8 tf32 or 16 16-bit values
constexpr int64_t kStepsPerRow = kSwizzleRowBytes / kStepBytes;
constexpr int64_t kAlignSlack = 1024;          // the kernel rounds its smem base up to the swizzle period
constexpr int64_t kStageAlign = 1024;          // x windows start on that period too
constexpr int64_t kBarrierBytesPerStage = 16;  // a "full" and an "empty" mbarrier
constexpr int64_t kStepOffsetBytes = 4;         // every-phase tiles: per stage, an int32 x offset per chunk k-step
constexpr int64_t kRowBoxZeroSlack = 32;       // row boxes: guard for zero reads moved right by row shifts
constexpr int32_t kFragmentQuads = 4;          // a fragment's k-slot lanes (q = lane % 4)
constexpr int64_t kFragmentColumns = 64;       // past a thread's farthest position in an m64 block (16 warp + g + 8)
constexpr int64_t kZeroAlign = 16;             // the zero block is cleared in 16-byte stores
constexpr int64_t kTf32WindowAlign = 64;       // bytes: TF32 stride-1 windows' starts in x, where no wider
constexpr int64_t kStagingBarrierBytes = 16;   // "staged" and "drained" of one consumer's staging
constexpr int64_t kBiasBytes = kStreamMaxN * 4;  // the bias, fp32, after the barriers
constexpr int64_t kBiasBytesPhase = kPhaseBlockMaxN * 4;  // (phase blocks: no staging barriers)
constexpr int64_t kPaceBarrierBytes = kPhaseBlockPaceRing * 8;  // phase blocks: the peers' progress
constexpr int64_t kReservedSmemPerBlock = 1024;
constexpr int64_t kMinStages = 2;               // (per two consumers: at least one x window each)
constexpr int64_t kPhaseBlockChunkPair = 2;
constexpr int64_t kConsumerGroups = 2;         // warpgroups taking alternate tiles, each with its staging
static_assert(kStreamMaxStages % kConsumerGroups == 0 && kStreamMaxStagesFp32 % kConsumerGroups == 0 &&
              kMinStages % kConsumerGroups == 0 && kStreamMaxStages16 % kStreamConsumers16 == 0,
              "stage counts must stay multiples of the consumers (fit_stages)");

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }
int64_t floor_to(int64_t v, int64_t m) { return (v >= 0 ? v / m : -((-v + m - 1) / m)) * m; }

// The x window of a tile of `positions` q: its start relative to the tile (16-byte aligned in x) and
// its width, `extra_left` positions left of the farthest tap (rotated phases). False when the taps
// reach too far for one TMA box.
bool plan_window(const Polyphase& poly, int64_t align, int64_t positions, StreamTiling& t, int64_t extra_left = 0) {
  const int64_t base = floor_to(t.q_first - poly.max_shift - extra_left, align) - t.q_first;
  // through the tile's last q (shift 0); row boxes and residue boxes start up to 16 bytes early
  // (StreamTiling::row_boxes, row_residues)
  const int64_t need = positions - base + (t.odd_rows() ? align : 0);
  // 8 (mod 16) elements: the 4 channel rows (fp32) or row pairs (16-bit) of a fragment land 8 words apart.
  // 16-bit residue maps read rows q of a group at once (row_residues.hpp): 16 (mod 32) elements puts them
  // 8 words apart, so that rows shifted by an odd element (8 elements over 5 words) still miss each other,
  // where such a window fits in a box (else 8 mod 16: right, with two-way bank conflicts).
  auto pitch = [need](int64_t period) {
    const int64_t cols = round_up(need, period) + period / 2;
    return cols - period >= need ? cols - period : cols;
  };
  int64_t cols = pitch(16);
  if (t.row_residues && pitch(32) <= kStreamMaxBox) cols = pitch(32);
  if (cols > kStreamMaxBox) return false;
  t.x_base = static_cast<int32_t>(base);
  t.x_cols = static_cast<int32_t>(cols);
  t.positions = static_cast<int32_t>(positions);
  return true;
}

// The window (plan_window) and the tiles of one row, for tiles of `positions` q with the phases in order
// (q_first = padding / stride) or rotated by `rotation` (StreamTiling::rotation). Rotated tiles read
// one more x column on the left, and their q_first is one of the two nearest values that put the first
// tile's first output, stride * (q_first - q0 - 1) with q0 = padding / stride, on a multiple of
// kStreamLaneOutputs at or before 0, so that vector stores start aligned: the one with fewer tiles,
// then the narrower window, or (`narrow_first`) the other way round. Measured (perf-log step 101):
// every-phase tiles lose to an extra tile per row (T2 16-bit +8 %), 64-position phase blocks gain from
// their 72-column window over 88 (T8 16-bit). False when the taps reach too far for one window.
bool lay_out_row(const Shape& s, const Polyphase& poly, int64_t align, int64_t positions, int32_t rotation,
                 bool narrow_first, StreamTiling& t) {
  const int64_t in_order = s.padding / s.stride;
  const int64_t step = kStreamLaneOutputs / std::gcd<int64_t>(s.stride, kStreamLaneOutputs);
  const int64_t candidates[2] = {rotation ? in_order + 1 : in_order, in_order + 1 - step};
  const int count = rotation ? 2 : 1;  // phases in order: q_first is fixed
  const int64_t last = s.out_length + s.padding + (rotation ? s.stride - rotation : 0);  // past the last output
  const int64_t q_end = (last + s.stride - 1) / s.stride;
  bool found = false;
  StreamTiling best;
  for (int i = 0; i < count; ++i) {
    const int64_t q_first = candidates[i];
    StreamTiling c = t;
    c.q_first = q_first;
    c.rotation = rotation;
    if (!plan_window(poly, align, positions, c, rotation ? 1 : 0)) continue;
    c.tiles_per_row = (q_end - q_first + positions - 1) / positions;
    c.tiles = s.batch * c.tiles_per_row;
    const bool narrower = c.x_cols < best.x_cols, fewer = c.tiles < best.tiles;
    if (!found || (narrow_first ? narrower || (c.x_cols == best.x_cols && fewer)
                                : fewer || (c.tiles == best.tiles && narrower)))
      best = c;
    found = true;
  }
  if (found) t = best;
  return found;
}

// Where each phase's rows of packed W^T start (t.phase_chunk), their total (t.chunks) and the image
// size (t.image_bytes; IEEE holds big and small parts), each phase's chunks a multiple of `multiple`.
// Returns the largest phase's chunks.
int32_t lay_out_chunks(int64_t phases, int64_t multiple, StreamTiling& t) {
  int32_t most = 0;
  t.chunks = 0;
  for (int64_t r = 0; r < phases; ++r) {
    t.phase_chunk[r] = t.chunks;
    const auto chunks = static_cast<int32_t>(round_up((t.phase_steps[r] + kStepsPerRow - 1) / kStepsPerRow, multiple));
    t.chunks += chunks;
    most = std::max(most, chunks);
  }
  t.phase_chunk[phases] = t.chunks;
  t.image_bytes = int64_t{t.chunks} * t.n * kSwizzleRowBytes * (t.ieee ? 2 : 1);
  return most;
}

// The stage count that fits next to `fixed` bytes: the most (a multiple of `consumers`, see below) up to
// `most`; less than `consumers` where none fits.
int64_t fit_stages(int64_t fixed, int64_t stage_bytes, int64_t most, int64_t budget,
                   int64_t barrier_bytes = kBarrierBytesPerStage, int64_t consumers = kConsumerGroups) {
  // A multiple of the consumers: consumer h then owns the stages s = h (mod consumers), so each stage's
  // barriers are waited on by one warpgroup, phase after phase. Otherwise the consumers share stages, and one
  // can wait on a stage's next phase while that stage's previous fill (for another consumer) is still in
  // flight: the parity wait then passes at once (mbarrier parities alias two phases apart). Three stages
  // for two consumers crashed on 32 rows of 131072 positions (perf-log step 58).
  int64_t stages = most / consumers * consumers;
  while (stages >= consumers && fixed + stages * (stage_bytes + barrier_bytes) > budget) stages -= consumers;
  return stages;
}

// Phase blocks' x windows in channel parts (StreamTiling::x_parts) where every chunk of W^T lies in one
// tap and one part, and each phase's chunks of one part pair up (the kernel runs them two at a time);
// compiled for IEEE channel groups of stride 2.
int32_t x_parts_for(const StreamTiling& t, int64_t phases) {
  if (!t.ieee || t.block_phases != kPhaseBlockPartsPhases) return 1;
  const int64_t steps_per_tap = t.ci_pad / t.k_step;
  if (steps_per_tap % (kPhaseBlockXParts * kStepsPerRow) != 0) return 1;
  const int64_t part_chunks = steps_per_tap / (kPhaseBlockXParts * kStepsPerRow);  // a tap's chunks in one part
  for (int64_t r = 0; r < phases; ++r)
    if (t.phase_steps[r] / steps_per_tap * part_chunks % kPhaseBlockChunkPair != 0) return 1;
  return kPhaseBlockXParts;
}

// Phase blocks (plan.hpp) with W^T's rows for `block_phases` phases (1, or all) and `width` channels
// per block: the chunk layout, the smem budget and the grid. False (with `why`) where two x windows
// do not fit next to those rows.
bool fit_phase_blocks(const Shape& s, const DeviceInfo& dev, int64_t elem, int32_t block_phases, int32_t width,
                      StreamTiling& t, std::string& why) {
  t.n = width;
  t.block_phases = block_phases;
  t.groups = static_cast<int32_t>((s.out_channels + width - 1) / width);
  // Each phase's chunks rounded up to pairs (zero rows of W^T against zero x rows): the kernel runs
  // them two at a time, so that its A fragments alternate between two register sets at compile time.
  const int32_t most_chunks = lay_out_chunks(s.stride, kPhaseBlockChunkPair, t);
  const int64_t images = t.ieee ? 2 : 1;
  t.image_bytes *= t.groups;  // [group][chunk][width][128 B] per image
  t.weight_bytes = int64_t{block_phases == 1 ? most_chunks : t.chunks} * t.n * kSwizzleRowBytes * images;
  const int64_t fixed = kAlignSlack + t.weight_bytes + t.zero_bytes + kPaceBarrierBytes + kBiasBytesPhase;
  t.x_parts = x_parts_for(t, s.stride);
  const int64_t barrier_bytes = kBarrierBytesPerStage * t.x_parts;
  const int64_t stages = fit_stages(fixed, t.stage_bytes, kStreamMaxStages, dev.smem_per_block_optin, barrier_bytes);
  if (stages < kMinStages) {
    why = std::string(block_phases == 1 ? "one phase's" : "a channel group's") + " weights (" +
          std::to_string(t.weight_bytes) + " bytes) and two x windows do not fit in " +
          std::to_string(dev.smem_per_block_optin) + " bytes of shared memory";
    return false;
  }
  t.stages = static_cast<int32_t>(stages);
  t.smem_bytes = fixed + stages * (t.stage_bytes + barrier_bytes);
  if (t.smem_bytes + kReservedSmemPerBlock > dev.smem_per_sm) {
    why = "one block does not fit on an SM";
    return false;
  }
  // Every kind of block (a phase, or a channel group) gets the same number of blocks: block b is of
  // kind b % kinds, and where phase blocks are paced, in cluster b / stride.
  const int64_t kinds = block_phases == 1 ? s.stride : t.groups;
  t.grid = std::min<int64_t>(t.tiles * kinds, dev.sm_count) / kinds * kinds;
  if (t.grid < kinds) {
    why = "needs at least " + std::to_string(kinds) + " SMs, the device has " + std::to_string(dev.sm_count);
    return false;
  }
  const int64_t tiles_per_block = (t.tiles + t.grid / kinds - 1) / (t.grid / kinds);
  const bool runs = block_phases > 1 && !t.ieee &&
                    tiles_per_block >= (elem == 4 ? kStreamTileRunMinTilesFp32 : kStreamTileRunMinTiles16);
  t.tile_run = runs ? kStreamTileRun : 1;
  t.cluster = block_phases == 1 && s.stride > 1 && tiles_per_block >= kPhaseBlockPaceMinTiles
                  ? static_cast<int32_t>(s.stride)
                  : 1;
  t.overlap_packing = t.cluster == 1 && tiles_per_block <= kPhaseBlockOverlapMaxTilesPerBlock;
  return true;
}

// The phase-block variant (plan.hpp): 64-position tiles, no staging. Each block keeps the W^T rows of
// every phase for one channel group (the widest group that fits; its accumulators for all phases
// within those of one 128-channel phase), or those of one phase for every channel. Channel groups
// first in fp32 and where y outgrows L2 (where one-phase blocks leave y's sectors half written, perf-log
// step 79); else one phase per block first (T6, S11 in 16-bit: faster), each the other's fallback.
bool plan_phase_blocks(const Shape& s, const Polyphase& poly, const DeviceInfo& dev, int64_t elem, int64_t align,
                       StreamTiling& t, std::string& why) {
  if (s.out_channels > kPhaseBlockMaxN) {
    why = "needs out_channels <= " + std::to_string(kPhaseBlockMaxN) + ", got " + std::to_string(s.out_channels);
    return false;
  }
  // The window and the tiles of phases in order, or rotated (StreamTiling::rotation).
  auto lay_out_tiles = [&](int32_t rotation) {
    if (!lay_out_row(s, poly, align, kPhaseBlockPositions, rotation, true, t)) {
      why = "needs the taps' reach, dilation*(kernel_size-1)/stride, <= ~180 (one 256-position window), got " +
            std::to_string(poly.max_shift);
      return false;
    }
    t.stage_bytes = round_up(int64_t{t.ci_pad} * t.x_cols * elem, kStageAlign);
    t.zero_bytes = kStepBytes * t.x_cols;
    if (t.tiles > std::numeric_limits<int32_t>::max()) {
      why = "more than 2^31 tiles";
      return false;
    }
    return true;
  };
  if (!lay_out_tiles(0)) return false;
  t.phase_blocks = true;
  t.staging_bytes = 0;
  const auto phases = static_cast<int32_t>(s.stride);
  const auto group_rotation = static_cast<int32_t>(elem == 2 && phases == 2 ? s.padding % 2 : 0);
  const auto all_channels = static_cast<int32_t>(round_up(s.out_channels, kStreamRowStep));
  auto channel_groups = [&](std::string& reason) {
    reason = phases == 1
                 ? "stride 1: a block of its one phase has every phase"
                 : "needs stride <= " + std::to_string(kPhaseBlockMaxN / kStreamRowStep) + " for channel groups";
    if (phases > 1 && !lay_out_tiles(group_rotation) && !lay_out_tiles(0)) return false;
    for (int32_t width = std::min<int32_t>(all_channels, kPhaseBlockMaxN / phases / kStreamRowStep * kStreamRowStep);
         width >= kStreamRowStep && phases > 1; width -= kStreamRowStep)
      if (fit_phase_blocks(s, dev, elem, phases, width, t, reason)) return true;
    return false;
  };
  auto one_phase = [&](std::string& reason) {
    return lay_out_tiles(0) && fit_phase_blocks(s, dev, elem, 1, all_channels, t, reason);
  };
  std::string group_why, phase_why;
  if (elem == 4 || s.y_elements() * elem > kPhaseBlockMaxOutputBytes) {
    if (channel_groups(group_why) || one_phase(phase_why)) return true;
  } else {
    if (one_phase(phase_why) || channel_groups(group_why)) return true;
  }
  why = "per phase: " + phase_why + "; per channel group: " + group_why;
  return false;
}

// Residue maps (StreamTiling::row_residues, 16-bit): a stage of R groups of C_in / R rows, each group on a
// 128-byte boundary, and a zero block wide enough for what a thread reads past the reduction, where its
// rows keep the distances residue_rows gives them (the kernel moves only the first row onto the zero block).
void lay_out_residues(const Shape& s, StreamTiling& t) {
  constexpr int64_t kElem = 2;
  ResidueStage& st = t.residue;
  st.rows = static_cast<int32_t>(s.in_channels / kResidueMaps);
  st.group_elems =
      static_cast<int32_t>(round_up(int64_t{st.rows} * t.x_cols * kElem, kResidueGroupAlign) / kElem);
  st.x_cols = t.x_cols;
  st.length_mod = static_cast<int32_t>(s.in_length % kResidueMaps);
  t.stage_bytes = round_up(int64_t{kResidueMaps} * st.group_elems * kElem, kStageAlign);
  int64_t reach = 0;  // the farthest element a zero step's fragment loads read past the zero block's start
  for (int32_t q = 0; q < kFragmentQuads; ++q)
    for (int32_t kk = 0; kk < kResidueChunkSteps; ++kk) {
      const ResidueRows r = residue_rows(st, q, kk);  // (the loads' second rows: pair, high, high + pair_high)
      const int64_t farthest = std::max<int64_t>({r.pair, r.high, r.high + r.pair_high});
      reach = std::max<int64_t>(reach, 2 * q * t.x_cols + kFragmentColumns + farthest);
    }
  t.zero_bytes = std::max(t.zero_bytes, round_up((reach + 1) * kElem, kZeroAlign));
}

}  // namespace

int64_t stream_out_offset(const Shape& s, const StreamTiling& t) {
  return t.q_first * s.stride - s.padding + (t.rotation ? t.rotation - s.stride : 0);
}

StreamStores stream_stores(const Shape& s, const StreamTiling& t, int32_t dtype, uint64_t y) {
  const int64_t elem = dtype == CONVT1D_FLOAT32 ? 4 : 2;
  if (t.skewed_rows) return StreamStores::Skewed;
  if (s.out_length % kStreamLaneOutputs == 0 && stream_out_offset(s, t) % kStreamLaneOutputs == 0 &&
      y % static_cast<uint64_t>(elem * kStreamLaneOutputs) == 0)
    return StreamStores::Vectors;
  return StreamStores::Elements;
}

int64_t resident_cluster_grid(int64_t grid, int32_t cluster, int64_t resident) {
  const int64_t clusters = std::max<int64_t>(1, std::min(grid / cluster, resident));
  return clusters * cluster;
}

bool plan_wgmma_stream(const Shape& s, int32_t dtype, int32_t math, const Polyphase& poly, const DeviceInfo& dev,
                       StreamTiling& t, std::string& why) {
  auto no = [&](const std::string& reason) {
    why = reason;
    return false;
  };
  if (!dev.wgmma) return no("needs an sm_90 (Hopper) device and a library built with sm_90a code");
  const bool fp32 = dtype == CONVT1D_FLOAT32;
  if (!fp32 && dtype != CONVT1D_FLOAT16 && dtype != CONVT1D_BFLOAT16)
    return no("runs float32 (TF32, or IEEE as 3xTF32), float16 and bfloat16 only");
  const bool ieee = fp32 && math == CONVT1D_MATH_IEEE;
  if (s.groups != 1) return no("runs groups == 1 only, got " + std::to_string(s.groups));
  if (s.stride > kStreamMaxPhases)
    return no("needs stride <= " + std::to_string(kStreamMaxPhases) + ", got " + std::to_string(s.stride));
  if (s.out_channels > kPhaseBlockMaxN)
    return no("needs out_channels <= " + std::to_string(kPhaseBlockMaxN) + ", got " +
              std::to_string(s.out_channels));
  const int64_t elem = fp32 ? 4 : 2;
  const int64_t align = 16 / elem;  // TMA box starts and row pitches are 16-byte multiples
  // TMA steps through x rows in place where their pitch is a 16-byte multiple; other rows come through
  // one map per residue of their starts (StreamTiling::row_residues) where C_in allows, else as one bulk
  // copy per channel row of x read flat (StreamTiling::row_boxes), at 32-bit element offsets.
  const bool odd_rows = s.in_length % align != 0;
  const int64_t k_step = kStepBytes / elem;
  const int64_t steps_per_tap = s.in_channels / k_step;
  constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
  // (16-bit taps of 2 or 4 k-steps: row_residues.hpp, residue_place; the maps' coordinates: up to
  // R * in_length plus a window columns, batch * C_in / R rows)
  const bool residues = odd_rows && !fp32 && s.in_channels % k_step == 0 &&
                        (steps_per_tap == 2 || steps_per_tap == 4) &&
                        kResidueMaps * s.in_length + kStreamMaxBox <= kInt32Max &&
                        s.batch * s.in_channels / kResidueMaps <= kInt32Max;
  const bool row_boxes = odd_rows && !residues;
  if (row_boxes && s.batch * s.in_channels * s.in_length % align != 0)
    return no("needs in_length, or batch * in_channels * in_length, to be a multiple of " + std::to_string(align) +
              " (16-byte rows for TMA, or a 16-byte x for row copies), got in_length " + std::to_string(s.in_length) +
              " and " + std::to_string(s.batch * s.in_channels) + " rows");
  if (s.batch > kInt32Max || s.padding + s.out_length + kStreamPositions * s.stride > kInt32Max ||
      s.in_length + kStreamPositions > kInt32Max ||
      (row_boxes && s.batch * s.in_channels * s.in_length + kStreamMaxBox > kInt32Max))
    return no("a dimension exceeds the kernel's 32-bit coordinates");
  t = StreamTiling{};
  t.row_boxes = row_boxes;
  t.row_residues = residues;
  t.k_step = static_cast<int32_t>(k_step);
  t.ci_pad = static_cast<int32_t>(round_up(s.in_channels, t.k_step));
  if (t.ci_pad > kStreamMaxBox)
    return no("needs in_channels <= " + std::to_string(kStreamMaxBox) + ", got " + std::to_string(s.in_channels));
  // Tile j covers q in [q0, q0 + positions), q0 = q_first + positions * j, and reads x from q0 - max_shift on.
  // Every-phase tiles rotate their phases where the padding is not a multiple of the stride
  // (StreamTiling::rotation): every tile's outputs then start on a multiple of 4, so the store warps
  // write whole vectors (perf-log step 100).
  const int64_t tile_outputs = kStreamPositions * s.stride;
  const int64_t rotated_tiles = s.batch * ((s.out_length + tile_outputs - 1) / tile_outputs);
  const bool rotate = s.padding % s.stride != 0 && s.out_length % kStreamLaneOutputs == 0 &&
                      (!fp32 || ieee || rotated_tiles >= kStreamRotateMinTilesPerBlockTf32 * dev.sm_count);
  const auto rotation = static_cast<int32_t>(rotate ? s.padding % s.stride : 0);
  t.n = static_cast<int32_t>(round_up(s.out_channels, kStreamRowStep));
  for (int64_t r = 0; r < s.stride; ++r)
    t.phase_steps[r] = static_cast<int32_t>(poly.taps[static_cast<size_t>(r)].count * t.ci_pad / t.k_step);
  t.ieee = ieee;
  for (int64_t r = 0; r < s.stride; ++r)
    if (ieee && int64_t{t.phase_steps[r]} * t.k_step > kStreamIeeeMaxTerms)
      return no("IEEE mode needs each phase's reduction (taps x in_channels) <= " +
                std::to_string(kStreamIeeeMaxTerms) + " terms for its accuracy, got " +
                std::to_string(int64_t{t.phase_steps[r]} * t.k_step));
  lay_out_chunks(s.stride, 1, t);
  // The whole W^T resident and 128-position tiles of every phase where they fit; else phase blocks.
  std::string all_phases_why;
  if (s.out_channels > kStreamMaxN)
    all_phases_why = "needs out_channels <= " + std::to_string(kStreamMaxN) + ", got " + std::to_string(s.out_channels);
  else if (!lay_out_row(s, poly, align, kStreamPositions, rotation, false, t))
    all_phases_why = "needs the taps' reach, dilation*(kernel_size-1)/stride, <= ~120 (one 256-position window), got " +
                     std::to_string(poly.max_shift);
  else if (fp32 && !ieee && s.stride == 1 && !odd_rows) {
    // TF32 at stride 1: windows started on 64 bytes of x where that keeps their width (perf-log step 206:
    // KB74 -1.2..3.6 %; with them T4's IEEE lost 6.5 % and its TF32 gained nothing, step 204)
    StreamTiling on64 = t;
    if (lay_out_row(s, poly, kTf32WindowAlign / elem, kStreamPositions, rotation, false, on64) &&
        on64.x_cols == t.x_cols && on64.tiles == t.tiles)
      t = on64;
  }
  if (all_phases_why.empty()) {
    t.weight_bytes = t.image_bytes;
    t.stage_bytes = round_up(int64_t{t.ci_pad} * t.x_cols * elem, kStageAlign);
    t.skewed_rows = !fp32 && s.stride == 1 &&
                    (s.out_length % kStreamLaneOutputs != 0 || stream_out_offset(s, t) % kStreamLaneOutputs != 0);
    // [blocks][N][128 bytes of outputs], or skewed: [N][outputs + kSkewRowPad bytes]
    t.staging_bytes = int64_t{t.n} * (kStreamPositions * s.stride * elem + (t.skewed_rows ? kSkewRowPad : 0));
    // k_step channel rows of the window, and what row boxes' shifts add to a thread's reads
    t.zero_bytes = kStepBytes * t.x_cols + (row_boxes ? kRowBoxZeroSlack : 0);
    if (residues) lay_out_residues(s, t);
    if (t.tiles > kInt32Max) return no("more than 2^31 tiles");
    t.grid = std::min<int64_t>(t.tiles, dev.sm_count);
    const bool deep_ring = fp32 && t.tiles >= kStreamDeepRingTilesPerBlock * t.grid;
    // per stage: its barriers and its table of the consumers' step offsets (src/step_offsets.hpp; unread by the
    // runs instances, which walk them)
    const int64_t per_stage = kBarrierBytesPerStage + int64_t{t.chunks} * kStepsPerRow * kStepOffsetBytes;
    for (const int64_t consumers : {fp32 ? kConsumerGroups : int64_t{kStreamConsumers16}, kConsumerGroups}) {
      const int64_t fixed = kAlignSlack + t.weight_bytes + consumers * (t.staging_bytes + kStagingBarrierBytes) +
                            t.zero_bytes + kBiasBytes;
      const int64_t most = consumers == kStreamConsumers16 ? kStreamMaxStages16
                           : deep_ring                     ? kStreamMaxStagesFp32
                                                           : kStreamMaxStages;
      const int64_t stages = fit_stages(fixed, t.stage_bytes, most, dev.smem_per_block_optin, per_stage, consumers);
      if (stages < consumers) continue;
      t.consumers = static_cast<int32_t>(consumers);
      t.stages = static_cast<int32_t>(stages);
      t.smem_bytes = fixed + stages * (t.stage_bytes + per_stage);
      t.overlap_packing = t.tiles <= kStreamOverlapMaxTilesPerBlock * t.grid;
      // (the kernels for rows that are not 16-byte multiples are compiled without runs)
      t.tile_run = fp32 && !ieee && !odd_rows && t.tiles >= kStreamTileRunMinTilesFp32 * t.grid ? kStreamTileRun : 1;
      if (t.smem_bytes + kReservedSmemPerBlock > dev.smem_per_sm) return no("one block does not fit on an SM");
      return true;
    }
    all_phases_why = "the weights (" + std::to_string(t.weight_bytes) + " bytes) and two x windows do not fit in " +
                     std::to_string(dev.smem_per_block_optin) + " bytes of shared memory";
  }
  if (odd_rows)
    return no("needs in_length to be a multiple of " + std::to_string(align) +
              " (16-byte rows for TMA) where phase blocks would run, got " + std::to_string(s.in_length) + ": " +
              all_phases_why);
  std::string phase_why;
  if (plan_phase_blocks(s, poly, dev, elem, align, t, phase_why)) return true;
  return no(all_phases_why + "; phase blocks " + phase_why);
}

}  // namespace convt1d::detail
