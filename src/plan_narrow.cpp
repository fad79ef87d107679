// Tiling of the narrow kernels (plan.hpp, NarrowTiling): which problems they take; for the FMA
// reduction (IEEE) how many thread groups share it out so that every SM gets windows, for the mma
// reduction (TF32, 16-bit) how many 64-column passes a window takes; and the shared memory either needs.
#include <algorithm>
#include <limits>
#include <string>

#include "plan.hpp"

namespace convt1d::detail {

namespace {

constexpr int64_t kBankWords = 32;
constexpr int64_t kVectorBytes = 16;  // the weight rows are read as float4

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

int64_t pow2_at_least(int64_t v, int64_t lo) {
  int64_t p = lo;
  while (p < v) p *= 2;
  return p;
}

// What both reductions end with, once a window's width (owned) and shared memory are set: the windows
// along every row (the kernels walk them with 32-bit divisions), whether the weights (`weights`, for
// the message) and the window fit, and the persistent grid.
bool place_windows(const Shape& s, const DeviceInfo& dev, int64_t q_end, const std::string& weights, NarrowTiling& t,
                   std::string& why) {
  t.tiles_per_row = (q_end - t.q_first + t.owned - 1) / t.owned;
  t.tiles = s.batch * t.tiles_per_row;
  if (t.tiles > std::numeric_limits<int32_t>::max()) {
    why = "needs fewer than 2^31 windows, got " + std::to_string(t.tiles);
    return false;
  }
  if (t.smem_bytes > dev.smem_per_block_optin) {
    why = "the weights (" + weights + ") and the window do not fit in " + std::to_string(dev.smem_per_block_optin) +
          " bytes of shared memory";
    return false;
  }
  t.grid = std::min<int64_t>(
      t.tiles, std::min<int64_t>(narrow_blocks_per_sm(t.rows), blocks_per_sm(dev, t.smem_bytes)) * dev.sm_count);
  return true;
}

// The mma reduction's window: 64 positions, every channel in each warp; W^T in fragment order.
bool plan_narrow_mma(const Shape& s, int32_t dtype, const Polyphase& poly, const DeviceInfo& dev, NarrowTiling& t,
                     std::string& why) {
  auto no = [&](const std::string& reason) {
    why = reason;
    return false;
  };
  const int64_t m = s.out_channels * s.kernel_size;
  if (m > kNarrowMmaMaxRows)
    return no("needs out_channels*kernel_size <= " + std::to_string(kNarrowMmaMaxRows) + ", got " + std::to_string(m));
  t.mma = true;
  t.rows = static_cast<int32_t>(round_up(m, kNarrowMmaRowTile));
  t.positions = 0;
  t.slices = 1;
  t.ci_per_slice = static_cast<int32_t>(s.in_channels);
  t.halo = poly.max_shift;
  t.q_first = s.padding / s.stride;
  const int64_t q_end = (s.padding + s.out_length + s.stride - 1) / s.stride;
  const int64_t k_step = dtype == CONVT1D_FLOAT32 ? kNarrowMmaStepTf32 : kNarrowMmaStep16;
  t.k_steps = static_cast<int32_t>((s.in_channels + k_step - 1) / k_step);
  const int64_t fragment_bytes = int64_t{t.k_steps} * (t.rows / kNarrowMmaRowTile) * kNarrowMmaFragmentBytes;
  const int64_t bias_bytes = round_up(s.out_channels * 4, kVectorBytes);
  auto windows = [&](int64_t cols) { return s.batch * ((q_end - t.q_first + (cols - t.halo) - 1) / (cols - t.halo)); };
  auto smem = [&](int64_t cols) { return fragment_bytes + int64_t{t.rows} * cols * 4 + bias_bytes; };
  // Passes: the fewest whose window owns at least its halo; then, where the reduction is one batch of
  // loads, wider while every block slot still gets two windows, so fewer windows pay the barriers and
  // the shift-add's set-up (L5: 5 per block). Longer reductions lost with wider windows (step 107).
  const int64_t slots = int64_t{narrow_blocks_per_sm(t.rows)} * dev.sm_count;
  int32_t passes = 1;
  while (passes < kNarrowMmaMaxPasses && kNarrowMmaCols * passes < 2 * t.halo) passes *= 2;
  while (s.in_channels <= kNarrowMmaBatchChannels && passes < kNarrowMmaMaxPasses &&
         windows(kNarrowMmaCols * passes * 2) >= 2 * slots &&
         blocks_per_sm(dev, smem(kNarrowMmaCols * passes * 2)) >= narrow_blocks_per_sm(t.rows))
    passes *= 2;
  t.cols = kNarrowMmaCols * passes;
  if (t.cols - t.halo < t.halo)
    return no("needs the taps' reach, dilation*(kernel_size-1)/stride, <= " + std::to_string(t.cols / 2) +
              " for these channels, got " + std::to_string(t.halo));
  t.owned = t.cols - t.halo;
  t.slice_pitch = t.rows * t.cols;
  t.smem_bytes = smem(t.cols);
  return place_windows(s, dev, q_end, std::to_string(fragment_bytes) + " bytes in fragment order", t, why);
}

}  // namespace

bool plan_narrow(const Shape& s, int32_t dtype, int32_t math, const Polyphase& poly, const DeviceInfo& dev,
                 NarrowTiling& t, std::string& why) {
  auto no = [&](const std::string& reason) {
    why = reason;
    return false;
  };
  if (dtype != CONVT1D_FLOAT32 && dtype != CONVT1D_FLOAT16 && dtype != CONVT1D_BFLOAT16)
    return no("runs float32, float16 and bfloat16 only (float64 runs on the direct kernel)");
  if (s.groups != 1) return no("runs groups == 1 only, got " + std::to_string(s.groups));
  if (s.stride > kMaxPhases)
    return no("needs stride <= " + std::to_string(kMaxPhases) + ", got " + std::to_string(s.stride));
  constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
  if (s.in_length > kInt32Max || s.padding > kInt32Max || s.in_channels > kInt32Max)
    return no("a dimension exceeds the kernel's 32-bit coordinates");
  if (dtype != CONVT1D_FLOAT32 || math != CONVT1D_MATH_IEEE) return plan_narrow_mma(s, dtype, poly, dev, t, why);
  const int64_t m = s.out_channels * s.kernel_size;
  if (m > kNarrowMaxRows)
    return no("needs out_channels*kernel_size <= " + std::to_string(kNarrowMaxRows) + ", got " + std::to_string(m));
  t.rows = static_cast<int32_t>(pow2_at_least(m, kNarrowMinRows));
  t.positions = narrow_positions(t.rows);
  t.halo = poly.max_shift;
  t.q_first = s.padding / s.stride;
  const int64_t q_end = (s.padding + s.out_length + s.stride - 1) / s.stride;  // past the last output's q

  // The fewest slices that give every block slot a window; more slices mean narrower windows, so a
  // larger share of halo positions computed twice. A window owns at least as many positions as its halo.
  const int64_t slots = int64_t{narrow_blocks_per_sm(t.rows)} * dev.sm_count;
  int64_t best = 0;
  for (int64_t slices = 1; slices <= kNarrowMaxSlices && slices <= s.in_channels; slices *= 2) {
    const int64_t cols = kNarrowThreads / slices * t.positions;
    if (cols - t.halo < t.halo) break;
    best = slices;
    const int64_t tiles = s.batch * ((q_end - t.q_first + (cols - t.halo) - 1) / (cols - t.halo));
    if (tiles >= slots) break;
  }
  if (best == 0)
    return no("needs the taps' reach, dilation*(kernel_size-1)/stride, <= " +
              std::to_string(kNarrowThreads * t.positions / 2) + " for these channels, got " +
              std::to_string(t.halo));
  t.slices = static_cast<int32_t>(best);
  t.ci_per_slice = static_cast<int32_t>((s.in_channels + best - 1) / best);
  const int64_t per_slice = kNarrowThreads / best;
  t.cols = static_cast<int32_t>(per_slice * t.positions);
  t.owned = t.cols - t.halo;
  // Slices narrower than a warp share its stores: offset them by half the banks.
  t.slice_pitch = static_cast<int32_t>(int64_t{t.rows} * t.cols + (per_slice < kBankWords ? per_slice : 0));
  const int64_t weight_bytes = s.in_channels * t.rows * 4;
  const int64_t z_bytes = int64_t{t.slices} * t.slice_pitch * 4;
  const int64_t bias_bytes = round_up(s.out_channels * 4, kVectorBytes);
  t.smem_bytes = weight_bytes + z_bytes + bias_bytes;
  return place_windows(s, dev, q_end, std::to_string(weight_bytes) + " bytes", t, why);
}

}  // namespace convt1d::detail
