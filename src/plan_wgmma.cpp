// Tiling of the Hopper tap-major GEMM (plan.hpp, WgmmaTiling): which problems it takes, the window
// and segment sizes that waste the fewest columns, and the pipeline depth that fits.
#include <algorithm>
#include <initializer_list>
#include <limits>
#include <utility>

#include "plan.hpp"
#include "tap_pairs.hpp"
#include "window_ownership.hpp"

namespace convt1d::detail {

namespace {

constexpr int64_t kReservedSmemPerBlock = 1024;
constexpr int64_t kAlignSlack = 1024;        // the kernel rounds its smem base up to the 128B-swizzle period
constexpr int64_t kBarrierBytesPerStage = 16;  // a "full" and an "empty" mbarrier
constexpr int64_t kBiasBytes = kWgmmaMaxTileChannels * 4;  // the tile's bias, fp32, after the barriers
constexpr int64_t kMinStages = 2;
constexpr int64_t kMinStagesShared = 3;      // with two blocks per SM
constexpr int64_t kSharedBlocks = 2;         // narrow tiles run two blocks per SM (one's epilogue hides
                                             // behind the other's main loop)
constexpr int64_t kWindowStep = 32;          // windows are whole 64B-swizzle atoms of 16-bit positions
// A tile's fixed cost (launch, pipeline fill, epilogue) in units of one Z column over one 64-channel
// reduction chunk: fitted to T3 and T5 on the H100 (~10 us per tile, 4.2 ns per column-chunk).
constexpr int64_t kTileOverhead = 2400;
// A persistent block's (WgmmaTiling::persistent) fixed cost per tile: its fill overlaps the previous
// tile's epilogue, which stays (about half, perf-log step 17).
constexpr int64_t kPersistentTileOverhead = kTileOverhead / 2;
constexpr int64_t kElem = 2;                 // fp16 / bf16 bytes
constexpr int64_t kTmaAlignElems = 16 / kElem;  // a TMA box starts on a 16-byte boundary
constexpr int64_t kMaxPackGridY = 65535;        // the W^T pre-pass launches one block row per 32 channels
constexpr int64_t kStageRowBytes = 128;     // a stage's bytes per weight row (64 rows per consumer)
constexpr int64_t kStageColumnBytes = 128;  // and per Z column
constexpr int64_t kColumnsWorkNum = 3, kColumnsWorkDen = 2;   // TF32 x^T-as-B tiles up to 1.5x the MMA work
// The shift-add's cost model (shift_add_groups): a row's set-up (channel, batch row, pointers, the tap
// count's branch) costs about as much as this many of its outputs; a group is whole warps, so that a
// warp's stores are one contiguous run of a row.
constexpr int64_t kShiftAddRowCost = 4;
constexpr int64_t kShiftAddMinLanes = 32;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The most output channels of kernel_size rows each that a 64-row warpgroup tile holds such that every
// warpgroup's first row (a multiple of co_per_half*K) is a multiple of `align` elements (TMA box
// starts are 16-byte aligned); 0 when none does.
int64_t aligned_co_per_half(int64_t kernel_size, int64_t align) {
  int64_t co_per_half = kWgmmaRows / kernel_size;
  while (co_per_half > 0 && co_per_half * kernel_size % align != 0) --co_per_half;
  return co_per_half;
}

// What search_windows tiles: consumers*co_per_half channels x N columns (`segments` windows of `window`
// positions, window a multiple of window_step, N up to max_n), windows overlapping by `halo`, over
// k_chunks pipeline steps. Stages hold the consumer warpgroups' 64 weight rows each (128 bytes a row,
// in 16-bit as 64 channels and in TF32 as 32) and column_bytes per column of x.
struct WindowSearch {
  int64_t halo, window_step, co_per_half, k_chunks;
  int64_t max_n = kWgmmaMaxN;
  bool wide = false;                      // tiles of kWgmmaWideConsumers consumers too
  bool shared = true;                     // two blocks per SM allowed (tiles up to kWgmmaMaxSharedN)
  int64_t column_bytes = kStageColumnBytes;
  bool persistent = false;                // WgmmaTiling::persistent tilings only
  // Persistent tiles: widths in these steps from this one, and (TF32) only those without Z.
  int64_t persistent_step = kWgmmaPersistentColumnStep, persistent_min_n = kWgmmaPersistentColumnStep;
  bool persistent_z_free_only = false;
  // TF32 persistent tilings at strides below 8: W^T's rows regrouped (WgmmaTiling::tap_pairs) where
  // they take kTapPairsMinRounds rounds or more
  bool tap_pairs = false;
};

// The tiling that the cost model finds cheapest; window 0 when none fits.
WgmmaTiling search_windows(const Shape& s, const DeviceInfo& dev, const WindowSearch& q) {
  // Shared memory of a tile N columns wide: stages of weights + x, with Z over them in the epilogue
  // (persistent: Z after them, as the next tile's loads fill the stages during the epilogue).
  const bool persistent = q.persistent;
  // z_free: a persistent tile that sums its outputs from the accumulators (register_epilogue_fits)
  // has no Z.
  auto fit = [&](int64_t n, int64_t consumers, int64_t blocks, bool z_free, WgmmaTiling& c) {
    int64_t z_pitch = n;  // rows padded to 8 (mod 32) words: a half-warp's float2 stores hit 32 banks
    while (z_pitch % 32 != 8) ++z_pitch;
    const int64_t z_bytes = z_free ? 0 : consumers * kWgmmaRows * z_pitch * 4;
    const int64_t stage_bytes = consumers * kWgmmaRows * kStageRowBytes + n * q.column_bytes;
    const int64_t room = std::min(dev.smem_per_block_optin, dev.smem_per_sm / blocks - kReservedSmemPerBlock) -
                         kAlignSlack - kBiasBytes - (persistent ? z_bytes : 0);
    const int64_t stages = std::min<int64_t>(kWgmmaMaxStages, room / (stage_bytes + kBarrierBytesPerStage));
    if (stages < (blocks == 1 ? kMinStages : kMinStagesShared)) return false;
    if (!persistent && z_bytes > stages * stage_bytes) return false;
    c.z_pitch = static_cast<int32_t>(z_pitch);
    c.stages = static_cast<int32_t>(stages);
    c.smem_bytes =
        kAlignSlack + stages * (stage_bytes + kBarrierBytesPerStage) + kBiasBytes + (persistent ? z_bytes : 0);
    return true;
  };
  // The cheapest tiling by the cost model: waves of tiles, each costing its MMA work (k_chunks x N
  // columns, shared by the blocks on an SM) plus a fixed cost (launch, pipeline fill, epilogue). A wide
  // tile's chunk costs its operand bytes relative to a two-consumer tile's, (192 + N) / (128 + N): the
  // main loop is bound by them (kWgmmaWideConsumers), and its fixed cost is 1.5x (the epilogue's rows).
  WgmmaTiling best;
  int64_t best_cost = std::numeric_limits<int64_t>::max();
  for (int64_t window = q.max_n / q.window_step * q.window_step; window >= q.window_step;
       window -= q.window_step) {  // ties: wider
    if (window < s.in_length && q.halo >= window) continue;  // overlapping windows would own nothing
    const int64_t windows = wgmma_windows(s.in_length, window, q.halo);
    // Segments are windows of consecutive batch rows at the same place in their rows, whether a
    // window holds a whole row or not: T5's rows of 264 positions ran 11-26 % faster as tiles of eight
    // 32-wide windows (TF32, IEEE) or two 96-wide ones (16-bit) than of one 144- or 96-wide window
    // (perf-log step 139): the tile's weight boxes serve more columns. Not on rows of many windows,
    // where the cost model's pick lost (T6 IEEE, 76 windows of 112: +2.5 %).
    const int64_t max_segments =
        windows <= kWgmmaMaxSegmentedWindows ? std::min<int64_t>(q.max_n / window, s.batch) : 1;
    for (int64_t segments = max_segments; segments >= 1; --segments) {
      const int64_t n = window * segments;
      WgmmaTiling c;
      c.window = static_cast<int32_t>(window);
      c.windows = static_cast<int32_t>(windows);
      c.halo = static_cast<int32_t>(q.halo);
      c.co_per_half = static_cast<int32_t>(q.co_per_half);
      c.tap_pairs = q.tap_pairs && persistent && s.stride != kRegisterEpilogueStride;
      const bool z_free = persistent && register_epilogue_fits(s, c);
      if (persistent && (n % q.persistent_step != 0 || n < q.persistent_min_n ||
                         (q.persistent_z_free_only && !z_free) ||
                         n > (z_free ? kWgmmaPersistentRegisterMaxN : kWgmmaPersistentMaxN)))
        continue;
      // (consumer warpgroups, blocks per SM): two consumers at one or two blocks per SM, or wide tiles
      for (const auto& [consumers, blocks] : std::initializer_list<std::pair<int64_t, int64_t>>{
               {2, 1}, {2, kSharedBlocks}, {kWgmmaWideConsumers, 1}}) {
        const bool wide = consumers > 2;
        if (wide && (!q.wide || n < kWgmmaWideMinN || n % kWgmmaWideColumnStep != 0 || (persistent && !z_free)))
          continue;
        if (blocks > 1 && (n > kWgmmaMaxSharedN || !q.shared || persistent)) continue;
        if (!fit(n, consumers, blocks, z_free, c)) continue;
        const int64_t row_tiles = ceil_div(s.batch, segments) * windows;
        const int64_t co_tiles = ceil_div(s.out_channels, consumers * q.co_per_half);
        if (wide && static_cast<double>(co_tiles * consumers * q.co_per_half) >
                        kWgmmaWideMaxChannels * static_cast<double>(s.out_channels))
          continue;
        const int64_t tiles = co_tiles * row_tiles;
        if (c.tap_pairs && ceil_div(tiles, dev.sm_count) < kTapPairsMinRounds) continue;
        const int64_t overhead = (persistent ? kPersistentTileOverhead : kTileOverhead) * consumers / 2;
        const int64_t chunk_cost = n * (consumers * kWgmmaRows + n) / (2 * kWgmmaRows + n);
        const int64_t cost = ceil_div(tiles, dev.sm_count * blocks) * (q.k_chunks * chunk_cost * blocks + overhead);
        if (cost >= best_cost) continue;
        c.segments = static_cast<int32_t>(segments);
        c.consumers = static_cast<int32_t>(consumers);
        c.n_atom = window % 64 == 0 ? 64 : 32;  // (the 16-bit kernel's swizzle atoms)
        c.blocks_per_sm = static_cast<int32_t>(blocks);
        c.co_tiles = co_tiles;
        c.row_tiles = row_tiles;
        c.tiles = tiles;
        c.persistent = persistent;
        c.grid = persistent ? std::min<int64_t>(tiles, dev.sm_count) : tiles;
        c.k_chunks = static_cast<int32_t>(q.k_chunks);
        best = c;
        best_cost = cost;
      }
    }
  }
  return best;
}

// The persistent tiling instead of the one-tile-per-block `t` (from search_windows with `q`) where
// AUTO takes it (WgmmaTiling::persistent, kWgmmaPersistent* in plan.hpp).
void prefer_persistent(const Shape& s, const DeviceInfo& dev, WindowSearch q, WgmmaTiling& t, bool tf32,
                       bool ieee = false) {
  if (t.window == 0 || t.tiles <= dev.sm_count * t.blocks_per_sm) return;  // (one wave: nothing to overlap)
  q.persistent = true;
  if (tf32) {
    q.persistent_step = kWgmmaTf32PersistentColumnStep;
    q.persistent_min_n = kWgmmaTf32PersistentMinN;
    q.persistent_z_free_only = true;
  }
  WgmmaTiling p = search_windows(s, dev, q);
  if (p.window == 0) return;
  if (p.consumers > 2) {  // (no narrower than the two-consumer persistent tiles, but for TF32's rule below:
                          // kWgmmaWide* in plan.hpp)
    WindowSearch narrow = q;
    narrow.wide = false;
    const WgmmaTiling two = search_windows(s, dev, narrow);
    // TF32 keeps the wide tiles where an SM's rounds of them hold fewer MMA rows x columns than the
    // two-consumer tiles' (the last round counts whole): they read fewer operand bytes per MAC as well.
    // Measured (perf-log step 161, H100): T5 six rounds of 192 x 192 against seven of 128 x 256, 6 % faster;
    // L1, four rounds of 192 x 192 against five of 128 x 208 (11 % more), 12 % slower.
    // (not the 16-bit rule's column slots below: these count rows too, as the tiles' consumers differ)
    const auto mma_work = [&](const WgmmaTiling& c) {
      return ceil_div(c.tiles, dev.sm_count) * c.consumers * kWgmmaRows * c.n();
    };
    if (tf32 && !ieee && two.window > 0 && mma_work(p) < mma_work(two)) {
      t = p;
      return;
    }
    if (two.window > 0 && p.n() < two.n()) p = two;
  }
  if (tf32) {
    if (p.n() >= (ieee ? kWgmmaIeeePersistentMinWiden : kWgmmaTf32PersistentMinWiden) * t.n()) t = p;
    return;
  }
  // Column slots per SM: waves of tiles x their columns (the last wave counts whole).
  const auto slots = [&](const WgmmaTiling& c) {
    return static_cast<double>(ceil_div(c.tiles, dev.sm_count * c.blocks_per_sm) * c.n() * c.blocks_per_sm);
  };
  const bool z_free = register_epilogue_fits(s, p);
  const double max_slots = z_free ? kWgmmaPersistentRegisterMaxSlots : kWgmmaPersistentMaxSlots;
  if (p.n() >= kWgmmaPersistentMinWidth * t.n() && slots(p) <= max_slots * slots(t)) t = p;
}

// The 16-bit tiling over joined batch rows (WgmmaTiling::joined_pitch) instead of `t` where it takes
// fewer waves of tiles at least as wide and the register epilogue sums its outputs. Measured (perf-log
// step 143, H100 bf16): 768 -> 384 channels on 16 rows of 300, six waves of 256 columns -> five, 13 %
// faster (64 -> 192 on 48 rows of 140 too); 8 rows of 264 at 1024 -> 512, four waves of 192 -> three of
// 256, 1.6 %. A wide tile's time is nearly flat in its width (its operand reads from shared memory: each
// 64-row wgmma of at most 128 columns reads its A again), so joined windows that only narrow the tiles
// lost: T5's five waves of 256 as five of 224, +22 % with the copy (join_rows, ~9 us); the cost model's
// columns would have taken them.
void prefer_joined_rows(const Shape& s, const DeviceInfo& dev, const WindowSearch& q, WgmmaTiling& t) {
  if (s.batch < 2 || t.window == 0) return;
  const int64_t pitch = joined_pitch_of(s);
  const Shape v = joined_shape(s, pitch);
  if ((v.in_length + kWgmmaMaxN) * s.stride + s.padding > std::numeric_limits<int32_t>::max()) return;
  WgmmaTiling j = search_windows(v, dev, q);
  prefer_persistent(v, dev, q, j, false);
  if (j.window == 0 || !register_epilogue_fits(v, j)) return;
  const auto waves = [&](const WgmmaTiling& c) { return ceil_div(c.tiles, dev.sm_count * c.blocks_per_sm); };
  if (waves(j) >= waves(t) || j.n() < t.n()) return;
  j.joined_pitch = pitch;
  t = j;
}

// WgmmaTiling::pack_blocks for a TF32 / IEEE tiling that packs W^T: one block per SM where the packing
// moves kPackTmaMinBytes..kPackTmaMaxBytes and TMA can read the rows it packs (16-byte row pitches),
// else 0. Not where x^T is packed alone (raw weights): the one suite layer of that kind in the range,
// L1 IEEE, was not A/B'd and timed 1.4 % slower with it than the session before (perf-log step 152).
int32_t pack_tma_blocks(const Shape& s, const DeviceInfo& dev, const WgmmaTiling& t) {
  constexpr int64_t kElem = 4;
  constexpr int64_t kTmaRowElems = 16 / kElem;
  const int64_t w_rows = s.out_channels * s.kernel_size;
  if (t.raw_weights || w_rows % kTmaRowElems != 0 || (t.x_transposed && s.in_length % kTmaRowElems != 0)) return 0;
  // Each job reads [rows][C_in][length] and writes [rows][length][ci_pitch].
  int64_t bytes = w_rows * (s.in_channels + t.ci_pitch) * kElem;
  if (t.x_transposed) bytes += s.batch * s.in_length * (s.in_channels + t.ci_pitch) * kElem;
  return bytes >= kPackTmaMinBytes && bytes <= kPackTmaMaxBytes ? dev.sm_count : 0;
}

}  // namespace

int64_t joined_pitch_of(const Shape& s) {
  const int64_t reach = (s.kernel_size - 1) * s.dilation / s.stride;  // taps left of an output's q (max shift)
  const int64_t q_last = (s.out_length - 1 + s.padding) / s.stride;   // a row's last output's q
  int64_t pitch = std::max(s.in_length + reach, q_last + 1);
  while (pitch % 2 != 0 || s.batch * pitch % kTmaAlignElems != 0) ++pitch;
  return pitch;
}

Shape joined_shape(const Shape& s, int64_t pitch) {
  Shape v = s;
  v.batch = 1;
  v.in_length = s.batch * pitch;
  v.out_length = (s.batch - 1) * pitch * s.stride + s.out_length;  // (the last row's last output)
  return v;
}

int64_t wgmma_windows(int64_t in_length, int64_t window, int64_t halo) {
  if (window >= in_length) return 1;
  return 1 + ceil_div(in_length - window, window - halo);
}

void wgmma_owned_outputs(const Shape& s, const WgmmaTiling& t, int64_t j, int64_t& first, int64_t& last) {
  const auto o = window_owned_outputs<int64_t>(j, t.windows, j * (t.window - t.halo), t.halo, t.window, s.stride,
                                               s.padding, s.out_length);
  first = o.first;
  last = o.last;
}

int32_t shift_add_groups(int64_t rows, int64_t outputs, int64_t stride, int32_t threads) {
  int32_t best = 1;
  int64_t best_cost = std::numeric_limits<int64_t>::max();
  for (int32_t g = 1; g <= threads / kShiftAddMinLanes; ++g) {
    const int64_t lanes = threads / g;
    if (threads % g != 0 || lanes % kShiftAddMinLanes != 0) continue;
    const int64_t active = lanes - lanes % stride;
    if (active == 0) break;
    const int64_t cost = ceil_div(rows, g) * (kShiftAddRowCost + ceil_div(outputs, active));
    if (cost < best_cost) {  // ties: fewer, wider groups
      best = g;
      best_cost = cost;
    }
  }
  return best;
}

void plan_shift_add(const Shape& s, WgmmaTiling& t) {
  // A row's outputs: a whole row in one window, else an interior window's share.
  const int64_t outputs = t.windows == 1 ? s.out_length : (t.window - t.halo) * s.stride;
  // (the persistent kernel's consumers, the one-tile kernel's threads: all of them, or its consumers
  // in wide tiles, which keep the producer's registers few)
  const int32_t threads = t.persistent || t.consumers > 2 ? t.consumer_threads() : kWgmmaBlockThreads;
  t.shift_add_groups =
      shift_add_groups(int64_t{t.tile_channels()} * t.segments, std::max<int64_t>(outputs, 1), s.stride, threads);
  t.shift_add_lanes = threads / t.shift_add_groups;
}

bool register_epilogue_fits(const Shape& s, const WgmmaTiling& t) {
  if (t.window == 0 || (t.tf32 && !t.tf32_columns)) return false;  // (the x^T-as-A kernel's accumulators)
  if (s.dilation != 1 || s.kernel_size != 2 * s.stride) return false;
  // (other strides: rows regrouped by the W^T packing, for strides that divide the stride-8 lane rows,
  // in whole groups)
  if (s.stride != kRegisterEpilogueStride &&
      (!t.tap_pairs || kRegisterEpilogueStride % s.stride != 0 || s.out_channels * s.kernel_size % kTapPairRows != 0))
    return false;
  if (int64_t{t.co_per_half} * s.kernel_size != kWgmmaRows) return false;  // (a warp's 16 rows per channel)
  // The last output's input position, and the last window's first: the window's columns reach it or
  // stop one short (that output's first tap is then past the row).
  const int64_t q_last = (s.out_length - 1 + s.padding) / s.stride;
  const int64_t last_start = int64_t{t.windows - 1} * (t.window - t.halo);
  return q_last <= last_start + t.window;
}

bool plan_wgmma(const Shape& s, int32_t dtype, const DeviceInfo& dev, WgmmaTiling& t, std::string& why) {
  auto no = [&](const std::string& reason) {
    why = reason;
    return false;
  };
  if (!dev.wgmma) return no("needs an sm_90 (Hopper) device and a library built with sm_90a code");
  if (dtype != CONVT1D_FLOAT16 && dtype != CONVT1D_BFLOAT16)
    return no("runs float16 and bfloat16 (and float32 in TF32 mode: plan_wgmma_tf32) only");
  if (s.groups != 1) return no("runs groups == 1 only, got " + std::to_string(s.groups));
  if (s.kernel_size > kWgmmaRows) return no("needs kernel_size <= 64, got " + std::to_string(s.kernel_size));
  if (s.stride > kMaxPhases) return no("needs stride <= 32, got " + std::to_string(s.stride));
  // TMA reads W as [C_in][C_out*K] rows, whose pitch must be a 16-byte multiple. (x rows of other
  // lengths are copied into a padded workspace first: WgmmaTiling::x_pitch.)
  if (s.out_channels * s.kernel_size * kElem % 16 != 0)
    return no("needs out_channels*kernel_size to be a multiple of 8, got " +
              std::to_string(s.out_channels * s.kernel_size));
  constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
  if (s.out_channels * s.kernel_size > kInt32Max || s.in_length > kInt32Max || s.batch > kInt32Max ||
      s.in_channels > kInt32Max || s.out_length + s.padding + kWgmmaRows * 2 > kInt32Max ||
      (s.in_length + kWgmmaMaxN) * s.stride + s.padding > kInt32Max)  // the epilogue's 32-bit positions
    return no("a dimension exceeds the kernel's 32-bit coordinates");

  // Windows overlap by the taps' reach rounded up to 16 bytes: TMA box starts must be 16-byte aligned
  // in the innermost dimension (unaligned ones fault as illegal instructions on the H100).
  const int64_t halo = ceil_div(ceil_div((s.kernel_size - 1) * s.dilation, s.stride), kTmaAlignElems) * kTmaAlignElems;
  const int64_t co_per_half = aligned_co_per_half(s.kernel_size, kTmaAlignElems);
  if (co_per_half == 0)
    return no("needs kernel_size <= 8 or a multiple of 2, 4 or 8 that lets 64-row tiles start 16-byte aligned, got " +
              std::to_string(s.kernel_size));
  const int64_t k_chunks = ceil_div(s.in_channels, kWgmmaChunk);

  WindowSearch q{halo, kWindowStep, co_per_half, k_chunks};
  q.wide = true;
  WgmmaTiling best = search_windows(s, dev, q);
  prefer_persistent(s, dev, q, best, false);
  prefer_joined_rows(s, dev, q, best);
  if (best.window == 0)
    return no("no window of positions holds the taps' reach (" + std::to_string(halo) + ") and fits in shared memory");
  if (best.tiles > std::numeric_limits<int32_t>::max())
    return no("more tiles (" + std::to_string(best.tiles) + ") than one launch's grid holds");
  best.x_pitch = ceil_div(s.in_length, kTmaAlignElems) * kTmaAlignElems;
  // Read the larger operand once: when the weights outweigh x, consecutive tiles share weights.
  best.rows_fastest = s.in_channels * s.out_channels * s.kernel_size > s.batch * s.in_channels * s.in_length;
  if (best.joined_pitch > 0) best.x_pitch = s.batch * best.joined_pitch;
  const Shape seen = best.joined_pitch > 0 ? joined_shape(s, best.joined_pitch) : s;  // (the row the windows see)
  plan_shift_add(seen, best);
  best.register_epilogue = register_epilogue_fits(seen, best);
  t = best;
  return true;
}

// fp32 in TF32 mode (see WgmmaTiling::tf32): 128 positions per tile (the two consumer warpgroups' 64
// rows of x^T, the wgmma M), `rows` = co_per_half*K rounded up to 32 of W^T as the wgmma N. IEEE mode
// (WgmmaTiling::ieee): the same tiles over three passes per chunk, x always transposed (the passes
// read x's small parts, which only the packing computes). Either mode reads W as stored where few row
// tiles share it (WgmmaTiling::raw_weights).
bool plan_wgmma_tf32(const Shape& s, const DeviceInfo& dev, WgmmaTiling& t, std::string& why, bool ieee) {
  auto no = [&](const std::string& reason) {
    why = reason;
    return false;
  };
  constexpr int64_t kElem32 = 4;
  constexpr int64_t kAlign32 = 16 / kElem32;  // fp32 elements per 16 bytes
  if (!dev.wgmma) return no("needs an sm_90 (Hopper) device and a library built with sm_90a code");
  if (s.groups != 1) return no("runs groups == 1 only, got " + std::to_string(s.groups));
  if (s.kernel_size > kWgmmaTf32MaxRows) return no("needs kernel_size <= 192, got " + std::to_string(s.kernel_size));
  if (s.stride > kMaxPhases) return no("needs stride <= 32, got " + std::to_string(s.stride));
  constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
  if (s.out_channels * s.kernel_size > kInt32Max || s.in_length > kInt32Max || s.batch > kInt32Max ||
      s.in_channels > kInt32Max || s.out_length + s.padding + kWgmmaTf32Positions * 2 > kInt32Max ||
      (s.in_length + kWgmmaTf32Positions) * s.stride + s.padding > kInt32Max)
    return no("a dimension exceeds the kernel's 32-bit coordinates");

  WgmmaTiling c;
  c.tf32 = true;
  const int64_t halo = ceil_div(ceil_div((s.kernel_size - 1) * s.dilation, s.stride), kAlign32) * kAlign32;
  // Short rows share a tile: 4 rows of <= 32 positions or 2 of <= 64; else 128-position windows.
  const int64_t window = s.in_length <= 32 ? 32 : s.in_length <= 64 ? 64 : kWgmmaTf32Positions;
  if (window < s.in_length && halo >= window)
    return no("the taps reach " + std::to_string(halo) + " positions, more than a window holds");
  c.window = static_cast<int32_t>(window);
  c.windows = static_cast<int32_t>(wgmma_windows(s.in_length, window, halo));
  c.segments = static_cast<int32_t>(kWgmmaTf32Positions / window);
  c.n_atom = kWgmmaTf32Atom;
  c.halo = static_cast<int32_t>(halo);
  // As few channel tiles as the rows allow, their channels spread evenly: the wgmma N (rows) is only
  // as wide as the channels need, which matters when there are few (L7: C_out 1, K 16 needs 32 rows).
  c.co_tiles = ceil_div(s.out_channels, kWgmmaTf32MaxRows / s.kernel_size);
  const int64_t co_per_tile = ceil_div(s.out_channels, c.co_tiles);
  c.co_per_half = static_cast<int32_t>(co_per_tile);  // one block of rows: cc / co_per_half is 0
  c.rows = static_cast<int32_t>(ceil_div(co_per_tile * s.kernel_size, kWgmmaTf32RowStep) * kWgmmaTf32RowStep);
  c.row_tiles = ceil_div(s.batch, c.segments) * c.windows;
  c.tiles = c.co_tiles * c.row_tiles;
  c.grid = c.tiles;
  if (c.tiles > kInt32Max) return no("more tiles (" + std::to_string(c.tiles) + ") than one launch's grid holds");
  const int64_t chunks = ceil_div(s.in_channels, kWgmmaTf32Chunk);
  if (chunks > kMaxPackGridY) return no("needs in_channels <= " + std::to_string(kMaxPackGridY * kWgmmaTf32Chunk));
  const int64_t parts = ieee ? 2 : 1;  // IEEE: big and small parts
  c.ieee = ieee;
  const bool segment_sums = ieee && s.in_channels > kIeeeOneChainChannels;
  c.k_chunks = static_cast<int32_t>(chunks * (ieee ? kIeeePasses : 1));
  c.ci_pitch = static_cast<int32_t>(chunks * kWgmmaTf32Chunk * parts);
  int64_t z_pitch = kWgmmaTf32Positions;  // Z[m][position]: rows padded to 4 (mod 32) words, so that a
  while (z_pitch % 32 != 4) ++z_pitch;    // warp's transposed accumulator stores hit 32 banks
  c.z_pitch = static_cast<int32_t>(z_pitch);
  const int64_t stage_bytes = kWgmmaTf32Chunk * kWgmmaTf32Positions * kElem32 + c.rows * kWgmmaTf32Chunk * kElem32;
  const int64_t room = dev.smem_per_block_optin - kReservedSmemPerBlock - kAlignSlack - kBiasBytes;
  const int64_t stages = std::min<int64_t>(kWgmmaMaxStages, room / (stage_bytes + kBarrierBytesPerStage));
  if (stages < kMinStages) return no("two pipeline stages do not fit in shared memory");
  if (c.rows * z_pitch * 4 > stages * stage_bytes) return no("the epilogue staging does not fit in the stage buffers");
  c.stages = static_cast<int32_t>(stages);
  c.smem_bytes = kAlignSlack + stages * (stage_bytes + kBarrierBytesPerStage) + kBiasBytes;
  const bool bounded = static_cast<double>(s.batch) * static_cast<double>(s.in_length) *
                           static_cast<double>(c.ci_pitch) * kElem32 <= static_cast<double>(kWgmmaTf32MaxTransposeBytes);
  if (ieee && !bounded)
    return no("IEEE mode needs x^T in a workspace of at most " + std::to_string(kWgmmaTf32MaxTransposeBytes >> 20) +
              " MiB");
  c.x_transposed = bounded && (ieee || s.in_length % kAlign32 != 0 ||
                               s.out_channels * s.kernel_size >= kWgmmaTf32TransposeMinRows);
  c.x_pitch = c.x_transposed ? s.in_length : ceil_div(s.in_length, kAlign32) * kAlign32;  // no padded copy
  c.rows_fastest = s.in_channels * s.out_channels * s.kernel_size > s.batch * s.in_channels * s.in_length;
  if (c.x_transposed && s.kernel_size <= kWgmmaRows) {
    // x^T has no alignment rule along positions (its rows are 128-byte channel chunks), so windows
    // overlap by exactly the taps' reach; weights rows need none either (W^T is packed).
    const int64_t reach = ceil_div((s.kernel_size - 1) * s.dilation, s.stride);
    const int64_t co_per_half = kWgmmaRows / s.kernel_size;
    WindowSearch q{reach, kWgmmaTf32ColumnStep, co_per_half, c.k_chunks};
    q.wide = !segment_sums;
    q.tap_pairs = !ieee;
    if (segment_sums) {
      q.max_n = kWgmmaSegmentSumsMaxN;
      q.shared = false;
    }
    WgmmaTiling w = search_windows(s, dev, q);
    if (!segment_sums) prefer_persistent(s, dev, q, w, true, ieee);
    // Its tiles are 2*co_per_half channels whatever C_out, so it may compute more MMA rows x columns
    // than the other orientation; it still wins up to 1.5x as many (S18: 1.33x, 15 % faster), not at 2x
    // (HTDemucs' 8 channels of K 8 fill half a tile: 5 % slower). Perf-log step 48.
    const auto work = [](const WgmmaTiling& t, int64_t rows) { return t.co_tiles * rows * t.row_tiles * t.n(); };
    // A searched x^T-as-B tiling takes the place of c, with the fields the search does not set.
    const auto adopt_columns = [&](WgmmaTiling w, bool raw_weights, bool segments) {
      w.tf32 = w.tf32_columns = w.x_transposed = true;
      w.raw_weights = raw_weights;
      w.ieee = ieee;
      w.segment_sums = segments;
      w.ci_pitch = c.ci_pitch;
      w.x_pitch = s.in_length;
      w.rows_fastest = c.rows_fastest;
      c = w;
    };
    if (w.window > 0 && w.tiles <= kInt32Max &&
        (segment_sums || kColumnsWorkDen * work(w, w.consumers * kWgmmaRows) <= kColumnsWorkNum * work(c, c.rows)))
      adopt_columns(w, false, segment_sums);
    // Raw weights (WgmmaTiling::raw_weights): a warpgroup's rows start 16-byte aligned in W's rows.
    const int64_t raw_co_per_half = aligned_co_per_half(s.kernel_size, kAlign32);
    if (c.tf32_columns && raw_co_per_half > 0 && s.out_channels * s.kernel_size % kAlign32 == 0) {
      WindowSearch r{reach, kWgmmaTf32ColumnStep, raw_co_per_half, chunks};
      r.max_n = ieee ? kRawWeightsIeeeMaxN : kRawWeightsMaxN;
      r.shared = false;
      r.column_bytes = kStageColumnBytes * parts;
      WgmmaTiling raw = search_windows(s, dev, r);
      const int64_t max_row_tiles = !ieee ? kRawWeightsMaxRowTiles
                                    : s.in_channels > kRawWeightsDeepIeeeChannels ? kRawWeightsDeepIeeeMaxRowTiles
                                                                                  : kRawWeightsIeeeMaxRowTiles;
      if (raw.window > 0 && raw.row_tiles <= max_row_tiles && raw.tiles <= kInt32Max)
        adopt_columns(raw, true, ieee);  // (IEEE raw tiles always sum in segments)
    }
  }
  if (segment_sums && !c.segment_sums)
    return no("IEEE mode with in_channels > " + std::to_string(kIeeeOneChainChannels) +
              " needs x^T tiles of at most " + std::to_string(kWgmmaSegmentSumsMaxN) +
              " positions and kernel_size <= 64");
  static_assert(kIeeeSegmentChannels % kWgmmaTf32Chunk == 0, "segments of whole chunks");
  c.segment_chunks = static_cast<int32_t>(c.segment_sums ? kIeeeSegmentChannels / kWgmmaTf32Chunk : chunks);
  plan_shift_add(s, c);
  c.register_epilogue = register_epilogue_fits(s, c);
  c.tap_pairs = c.tap_pairs && c.register_epilogue;  // (the Z path reads W^T's rows in order)
  c.pack_blocks = pack_tma_blocks(s, dev, c);
  t = c;
  return true;
}

}  // namespace convt1d::detail
