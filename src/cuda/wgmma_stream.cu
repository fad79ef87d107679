// Streaming transposed convolution on Hopper tensor cores, for layers with few output channels and
// long rows (KernelBench #74: 32 -> 64 channels, K 5, rows of 131072; BigVGAN's last upsamplers).
// fp32 (TF32, or IEEE as 3xTF32), fp16 and bf16 in and out, fp32 accumulation.
//
// Tile: 128 consecutive input positions q0.. of one batch row x every phase r < stride x all C_out
// channels (N = C_out rounded up to 32), i.e. the outputs u = q*stride + r - padding. Where the padding
// is not a multiple of the stride, the plan rotates the phases (StreamTiling::rotation): phases
// r >= rotation are computed one position left (one more tap shift) and stored rotation slots earlier,
// so that every tile's outputs start on a multiple of a store lane's 4 and its rows leave as vectors.
// Per phase the tile is one GEMM over that phase's taps n (plan.hpp, Polyphase):
//   D_r[m, co] = sum over n, ci of x[ci, q0 + m - shift_n] * W[ci, co, k_n],
// reduction index v = n*ci_pad + ci (tap-major), one wgmma m64nN per k_step channels of one tap.
//   A = x^T from registers: tap n's fragment is the x window read at column offset
//       -shift_n - x_base, so all taps of all phases share one window (no im2col, no Z, no shift-add);
//   B = W^T from shared memory, K-major (tf32 operands must be; 16-bit ones take the same layout):
//       packed once per call by pack_stream_weights, phase by phase, into the exact 128B-swizzled
//       image, copied into each block once.
//
// Shared memory (base rounded up to 1024 B, the 128B-swizzle period):
//   W^T     [chunks][N][128 B]           128B swizzle, resident for the whole kernel
//   x[s]    [ci_pad][x_cols] T            one TMA box per tile (zero-filled outside x), `stages` deep
//   out[h]  [pos / (128 B)][N][128 B]    the staging of consumer warpgroup h (128*stride outputs):
//                                          128-byte rows per channel, 16-byte chunks XORed with co mod 8;
//                                          skewed rows (src/skewed_rows.hpp): [N][128*stride outputs + 16 B];
//                                          16-bit at stride 2: [phase slot][position / 64][N][128 B]
//   zeros   [k_step][x_cols]              what fragment loads of steps past the reduction read
//   full[stages], empty[stages], staged[C], drained[C]   mbarriers (C consumers)
//   bias    [kStreamMaxN] fp32
//   offsets [stages][chunks][4] int32     each k-step's x offset from a thread's fragment origin in that
//                                          stage (src/step_offsets.hpp; past a phase's reduction, the zero
//                                          block's), tabulated once per block
//
// Rows that are not 16-byte multiples (StreamTiling::row_boxes): x read flat, each window as one bulk copy
// (cp.async.bulk, no tensor map) per channel row issued by the producer warp's lanes, starting on the 16
// bytes at or before the window (so each row sits its own shift right in the stage, and each thread reads
// its rows that far right) and clipped to x; rows past C_in zeroed once at set-up; the consumer of a row's
// first or last tile zeroes the columns outside the row, which the copies read from the neighbouring rows
// (or left unwritten, past x), before its fragment loads. In fp32, channel rows in whole groups of 16 sit
// transposed 4 x 4 in the stage (row_boxes.hpp, row_box_slot), so that the four rows of a fragment load share
// their shift and hit distinct banks, W^T's image ordered to match. Every consumer thread releases the stage
// itself ("empty" counts 128 arrivals): its fix-up writes and loads precede the next fill's copies, and
// racecheck follows releases thread by thread, not through a warp's __syncwarp (docs/perf-log.md, step 194).
// In 16-bit where C_in is 32 or 64 (StreamTiling::row_residues), such rows come instead through R = 8 TMA
// maps, one per residue of the rows' flat starts modulo R: a window is R boxes of C_in / R rows (group r of
// the stage, 128-byte aligned), each landing its residue's fixed shift right (src/row_residues.hpp); W^T's
// image orders each tap's channels by where the consumers read them (residue_place), each thread reads its
// rows at the offsets residue_rows gives per step of a chunk, and the consumer of a row's first tile zeroes
// what the maps read left of the row (the previous row's end; right of it TMA zero-fills). Releases as for
// row boxes.
//
// Pipeline: persistent blocks take tiles blockIdx.x, + gridDim.x, ... (tile i in x stage i mod stages;
// `stages` is a multiple of the consumers, so consumer h owns the stages h (mod consumers) and waits on each in
// phase order).
// Warpgroup 0's first thread
// (the producer) fills x stages by TMA, waiting on "empty" before a refill; its warps 1-3 (the store
// warps) copy each finished tile from its staging into y with coalesced row stores. Consumer
// warpgroups 1.. (two, or three: StreamTiling::consumers) take the tiles in turn: wait on "full"; per
// phase, run the reduction in groups of k-steps per m64 block with one group in flight (A fragments double
// buffered) and write the accumulators into the staging at outputs q*stride + r (in 16 bits at stride 1, and at
// stride 2 each phase slot apart, as 8 x 8 matrices by stmatrix; the first phase after the store warps have
// drained the staging's previous tile, "drained"); release the stage after the last phase's wgmmas and hand the
// staging over ("staged"). TMA stores from the staging were tried: 20 % slower on KB74 tf32
// (docs/perf-log.md), as the DESIGN.md feasibility kernel found.
#include <type_traits>

#include "cuda/stream_buffer.cuh"
#include "cuda/wgmma_stream_parts.cuh"
#include "row_boxes.hpp"
#include "row_residues.hpp"
#include "skewed_rows.hpp"
#include "step_offsets.hpp"

namespace convt1d::detail {

namespace {

using namespace stream;

constexpr int kRowFixBarrier = 1;  // named barriers 1 + h: consumer h's row-box fix-up (0 is __syncthreads)

// How a window's x rows arrive: by one TMA box (16-byte rows), one bulk copy per channel row
// (StreamTiling::row_boxes) or one TMA box per residue map (StreamTiling::row_residues). Each compiles apart,
// so that the 16-byte-row instances keep their code.
enum class XRows { Tma, RowBoxes, Residues };

// What row boxes and residue maps read beyond StreamParams: the kernel's last argument, so that the other
// instances' arguments keep their places.
struct RowBoxParams {
  int32_t in_channels, in_length;
  int32_t x_elements;  // B * C_in * L_in: the end of x
  const void* x;       // x itself (the copies take no tensor map)
  ResidueStage residue;  // residue maps: the stage's groups
};

// Residue maps: the kernel's first argument in place of the one x map (TMA wants a map 64-byte aligned,
// which only the first kernel argument is sure to be).
struct ResidueMaps {
  CUtensorMap maps[kResidueMaps];
};
template <XRows kRows>
using XMaps = std::conditional_t<kRows == XRows::Residues, ResidueMaps, CUtensorMap>;

// Byte offset of (channel co, tile position pos) in a staging buffer: block pos / kBoxPositions of
// 128-byte rows, row co, the 16-byte chunk index XOR co mod 8 (so that a warp's fragment writes,
// 4 channels x 8 positions, hit distinct banks).
template <class T, int N>
__device__ __forceinline__ uint32_t staging_offset(int co, int pos) {
  constexpr int kBoxPositions = kRowBytes / sizeof(T);
  const uint32_t byte = (pos % kBoxPositions) * sizeof(T);
  return (pos / kBoxPositions) * N * kRowBytes + co * kRowBytes + (((byte >> 4) ^ (co & 7)) << 4) + (byte & 15);
}

// One phase's accumulators D[q][co] into the staging at outputs q * phases + slot (the phase, or
// where phases are rotated its rotated place).
template <class T, int N>
__device__ __forceinline__ void stage_outputs(unsigned char* out, const float (&acc)[2][N / 2], int warp, int g, int q,
                                              int32_t phases, int32_t slot) {
#pragma unroll
  for (int mb = 0; mb < 2; ++mb)
#pragma unroll
    for (int hi = 0; hi < 2; ++hi) {
      const int pos = (kBlockM * mb + 16 * warp + 8 * hi + g) * phases + slot;
#pragma unroll
      for (int nb = 0; nb < N / 8; ++nb)
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          const int co = nb * 8 + 2 * q + j;
          *reinterpret_cast<T*>(out + staging_offset<T, N>(co, pos)) = from_float<T>(acc[mb][nb * 4 + hi * 2 + j]);
        }
    }
}

// The same at stride 1 in 16 bits (outputs = positions), as 8 x 8 matrices: the pairs (channels 2q, 2q + 1) of
// each position row g are an mma fragment, and stmatrix .trans writes each matrix's columns (one channel, eight
// positions: 16 bytes) as staging rows, four channel blocks per instruction, where element stores wrote 2 bytes
// each (perf-log step 213). Lane l addresses channel 32 k + l: row l % 8 of matrix l / 8 (channel block 4 k + l / 8).
// Its positions 16 warp + 8 hi.. are 16-byte chunk 2 warp + hi of the row, XORed with the channel mod 8 =
// l % 8, so each matrix's eight rows hit distinct banks.
template <class T, int N>
__device__ __forceinline__ void stage_output_matrices(unsigned char* out, const float (&acc)[2][N / 2], int warp,
                                                      int lane) {
  static_assert(sizeof(T) == 2 && kRowBytes / sizeof(T) == kBlockM && N % 32 == 0);
  constexpr int kMatrixBlocks = 4;  // channel blocks of 8 per stmatrix.x4
  const uint32_t rows = hopper::smem_addr(out) + lane * kRowBytes;
#pragma unroll
  for (int mb = 0; mb < 2; ++mb)
#pragma unroll
    for (int hi = 0; hi < 2; ++hi) {
      const uint32_t at = rows + mb * N * kRowBytes + (((2 * warp + hi) ^ (lane & 7)) << 4);
#pragma unroll
      for (int k = 0; k < N / (8 * kMatrixBlocks); ++k) {
        uint32_t r[kMatrixBlocks];
#pragma unroll
        for (int i = 0; i < kMatrixBlocks; ++i) {
          const int a = (kMatrixBlocks * k + i) * 4 + hi * 2;
          r[i] = pack_pair<T>(acc[mb][a], acc[mb][a + 1]);
        }
        hopper::stmatrix_x4_trans(at + k * 8 * kMatrixBlocks * kRowBytes, r[0], r[1], r[2], r[3]);
      }
    }
}

// The same into a skewed staging (StreamTiling::skewed_rows, src/skewed_rows.hpp): output e of channel co in
// slot skewed_slot(e, skew[co % 2], outputs) of its row, rows `pitch` bytes apart. skew[j] is the skew of this
// thread's channels 2q + j (mod 8), which all its channels of that parity share (rows 8 apart lie a multiple
// of 4 elements apart).
template <class T, int N>
__device__ __forceinline__ void stage_outputs_skewed(unsigned char* out, const float (&acc)[2][N / 2], int warp, int g,
                                                     int q, int32_t phases, int32_t slot, const int32_t (&skew)[2]) {
  const int32_t outputs = kStreamPositions * phases, pitch = skewed_row_pitch(outputs, sizeof(T));
#pragma unroll
  for (int mb = 0; mb < 2; ++mb)
#pragma unroll
    for (int hi = 0; hi < 2; ++hi) {
      const int e = (kBlockM * mb + 16 * warp + 8 * hi + g) * phases + slot;
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        unsigned char* row = out + (2 * q + j) * pitch + skewed_slot(e, skew[j], outputs) * int32_t(sizeof(T));
#pragma unroll
        for (int nb = 0; nb < N / 8; ++nb)
          *reinterpret_cast<T*>(row + nb * 8 * pitch) = from_float<T>(acc[mb][nb * 4 + hi * 2 + j]);
      }
    }
}

// Vector 0 of a skewed 16-bit row (src/skewed_rows.hpp) of skew s > 0: slots s..3 go to the row's head at
// aligned + s.., slots 0..s-1 to its tail at aligned + outputs.., `aligned` on 8 bytes and `outputs` a multiple
// of 4. Each lane stores a different row, so every store is its own L2 request: pairs on 4 bytes leave as one
// (s = 2: two stores, s = 1 or 3: three, against four elements).
template <class T>
__device__ __forceinline__ void store_vector0_parts(T* aligned, uint2 v, int32_t s, int32_t outputs) {
  static_assert(sizeof(T) == 2);
  auto* head = reinterpret_cast<uint16_t*>(aligned);
  auto* tail = reinterpret_cast<uint16_t*>(aligned + outputs);
  if (s <= 2) *reinterpret_cast<uint32_t*>(head + 2) = v.y;  // slots 2, 3
  if (s >= 2) *reinterpret_cast<uint32_t*>(tail) = v.x;      // slots 0, 1
  if (s == 1) {
    head[1] = static_cast<uint16_t>(v.x >> 16);  // slot 1
    tail[0] = static_cast<uint16_t>(v.x);        // slot 0
  } else if (s == 3) {
    tail[2] = static_cast<uint16_t>(v.y);        // slot 2
    head[3] = static_cast<uint16_t>(v.y >> 16);  // slot 3
  }
}

// How store_rows walks a piece's rows in the usual case (a tile inside its row, rows vector-aligned): four rows
// in flight per store warp (Unrolled4), as the compiler schedules them (Plain), or in cycles of the staging's
// swizzle (Cycles).
enum class RowLoop { Unrolled4, Plain, Cycles };

// 16-bit stagings by stmatrix: at stride 1, and at stride 2 (kSlotPairPhases) each phase slot apart, laid out as
// a stride-1 staging of its 128 positions (perf-log steps 213, 217). Consumers and store warps both test this.
constexpr int32_t kSlotPairPhases = 2;
template <int N>
constexpr uint32_t slot_staging_bytes() {
  return kStreamPositions / kBlockM * N * kRowBytes;
}

// A store lane's staged vector at `at`: as it lies, or (kSlotPairs) interleaved from the pairs of positions m, m + 1
// that phase slots 0 and 1 hold there and slot_staging_bytes on: outputs 2m, 2m + 1, 2m + 2, 2m + 3.
template <class Vec, bool kSlotPairs, int N>
__device__ __forceinline__ Vec staged_vector(const unsigned char* at) {
  if constexpr (kSlotPairs) {
    const uint32_t a = *reinterpret_cast<const uint32_t*>(at);
    const uint32_t b = *reinterpret_cast<const uint32_t*>(at + slot_staging_bytes<N>());
    return Vec{__byte_perm(a, b, 0x5410), __byte_perm(a, b, 0x7632)};
  } else {
    return *reinterpret_cast<const Vec*>(at);
  }
}

// store_rows on rows staged unskewed: each piece's rows, from the staging as it lies or (kSlotPairs) from two phase
// slots staged apart.
template <class T, int N, RowLoop kLoop, bool kSlotPairs>
__device__ __forceinline__ void store_pieces(const unsigned char* out, T* __restrict__ row, int32_t t0, int32_t outputs,
                                             const StreamParams& p, int warp, int lane) {
  static_assert(!kSlotPairs || sizeof(T) == 2);
  constexpr int kWarpRows = kStoreWarps;
  constexpr int kPer = kStreamLaneOutputs;  // outputs per lane and piece
  using Vec = std::conditional_t<sizeof(T) == 4, uint4, uint2>;  // kPer elements
  const int64_t row_step = int64_t(kWarpRows) * p.out_length;
  const bool fast = p.vec_rows && t0 >= 0 && t0 + outputs <= p.out_length;
  // Pieces outside, rows inside: the row loop is what unrolls. Four rows in flight per warp keep the
  // store warps ahead of TF32 consumers; with 16-bit or IEEE consumers, which load more per output,
  // the compiler's own schedule interferes less (KB74 A/B, docs/perf-log.md step 40).
  for (int32_t pos = kPer * lane; pos < outputs; pos += kStreamPositions) {
    T* dst = row + t0 + pos;
    const int32_t at = kSlotPairs ? pos / 2 : pos;  // where the lane's vector (or its slot pairs) lies staged
    if (fast && kLoop == RowLoop::Cycles) {
      // This warp's rows co = warp + kWarpRows i: their staging swizzle (co mod 8) repeats every kSwizzleRows
      // rows (kWarpRows and 8 being coprime), so the offsets of one such cycle are computed once and every row
      // is a load, a store and a pointer step (perf-log step 215).
      constexpr int kSwizzleRows = 8;
      static_assert(kWarpRows % 2 == 1, "rows kWarpRows apart cycle through every swizzle");
      uint32_t off[kSwizzleRows];
#pragma unroll
      for (int k = 0; k < kSwizzleRows; ++k) off[k] = staging_offset<T, N>(warp + kWarpRows * k, at);
      const int rows = (p.out_channels - warp + kWarpRows - 1) / kWarpRows;
      int i = 0;
      for (; i + kSwizzleRows <= rows; i += kSwizzleRows) {
        const unsigned char* src = out + i * kWarpRows * kRowBytes;
#pragma unroll
        for (int k = 0; k < kSwizzleRows; ++k, dst += row_step)
          *reinterpret_cast<Vec*>(dst) = staged_vector<Vec, kSlotPairs, N>(src + off[k]);
      }
      const unsigned char* src = out + i * kWarpRows * kRowBytes;
#pragma unroll
      for (int k = 0; k < kSwizzleRows - 1; ++k, dst += row_step)  // the last, partial cycle
        if (i + k < rows) *reinterpret_cast<Vec*>(dst) = staged_vector<Vec, kSlotPairs, N>(src + off[k]);
    } else if (fast && kLoop == RowLoop::Unrolled4) {
#pragma unroll 4
      for (int co = warp; co < p.out_channels; co += kWarpRows, dst += row_step)
        *reinterpret_cast<Vec*>(dst) = staged_vector<Vec, kSlotPairs, N>(out + staging_offset<T, N>(co, at));
    } else if (fast) {
      for (int co = warp; co < p.out_channels; co += kWarpRows, dst += row_step)
        *reinterpret_cast<Vec*>(dst) = staged_vector<Vec, kSlotPairs, N>(out + staging_offset<T, N>(co, at));
    } else {
      for (int co = warp; co < p.out_channels; co += kWarpRows, dst += row_step) {
        const Vec v = staged_vector<Vec, kSlotPairs, N>(out + staging_offset<T, N>(co, at));
        const T* e = reinterpret_cast<const T*>(&v);
#pragma unroll
        for (int i = 0; i < kPer; ++i) {
          const int32_t t = t0 + pos + i;
          if (t >= 0 && t < p.out_length) dst[i] = e[i];
        }
      }
    }
  }
}

// The rows of one tile's staging into y by the store warps: store warp w takes channels w, w + 3, ...;
// in each 128-output piece of a row lane l takes outputs 4l..4l+3, in one vector store when every
// tile's rows start aligned to it (p.vec_rows) and the tile lies inside the row, else element by
// element within [0, L_out). `row` is channel `warp`'s row of y (batch row included); t0 the tile's
// first output (negative when padding puts the first phases before the row). kSkew: the staging is
// skewed row by row (StreamTiling::skewed_rows, src/skewed_rows.hpp), so lane l's slots 4l..4l+3 are a
// vector of y wherever the tile lies inside the row, but for each row's vector 0. kSlotPairs (16-bit, phased): at
// stride 2 the consumers stage each phase slot apart (store_pieces).
template <class T, int N, RowLoop kLoop, bool kSkew, bool kSlotPairs>
__device__ __forceinline__ void store_rows(const unsigned char* out, T* __restrict__ row, int32_t t0, int32_t phases,
                                           const StreamParams& p, int warp, int lane) {
  constexpr int kWarpRows = kStoreWarps;
  constexpr int kPer = kStreamLaneOutputs;  // outputs per lane and piece
  using Vec = std::conditional_t<sizeof(T) == 4, uint4, uint2>;  // kPer elements
  const int32_t outputs = kStreamPositions * phases;
  const int64_t row_step = int64_t(kWarpRows) * p.out_length;
  if constexpr (kSkew) {
    static_assert(kPer == kSkewVector && N <= kWarpRows * 32);  // (a lane per row for vector 0)
    const int32_t pitch = skewed_row_pitch(outputs, sizeof(T));
    const auto skew_of = [](const T* at) { return row_skew(reinterpret_cast<uintptr_t>(at) / sizeof(T)); };
    if (t0 >= 0 && t0 + outputs <= p.out_length) {
      // Vectors 1.. of each row as they lie in y; then vector 0 of row warp + kWarpRows * lane by that lane.
      for (int32_t slot = kPer * lane; slot < outputs; slot += kStreamPositions) {
        if (slot == 0) continue;
        const unsigned char* src = out + warp * pitch + slot * int32_t(sizeof(T));
        T* at = row + t0 + slot;
        for (int co = warp; co < p.out_channels; co += kWarpRows, src += kWarpRows * pitch, at += row_step)
          *reinterpret_cast<Vec*>(at - skew_of(at)) = *reinterpret_cast<const Vec*>(src);
      }
      const int co = warp + kWarpRows * lane;
      if (co < p.out_channels) {
        T* at = row + t0 + lane * row_step;
        const int32_t s = skew_of(at);
        const Vec v = *reinterpret_cast<const Vec*>(out + co * pitch);
        if (s == 0) {
          *reinterpret_cast<Vec*>(at) = v;
        } else {  // slots s..3 at the row's head, 0..s-1 at its tail, in as few stores as their alignment allows
          store_vector0_parts(at - s, v, s, outputs);
        }
      }
    } else {  // a tile at a row's end: element by element, inside the row
      for (int32_t slot = kPer * lane; slot < outputs; slot += kStreamPositions) {
        T* at = row + t0;
        for (int co = warp; co < p.out_channels; co += kWarpRows, at += row_step) {
          const int32_t s = skew_of(at);
          const Vec v = *reinterpret_cast<const Vec*>(out + co * pitch + slot * int32_t(sizeof(T)));
          const T* e = reinterpret_cast<const T*>(&v);
#pragma unroll
          for (int i = 0; i < kPer; ++i) {
            const int32_t place = slot_place(slot + i, s, outputs);  // output t0 - s + place
            if (t0 - s + place >= 0 && t0 - s + place < p.out_length) (at - s)[place] = e[i];
          }
        }
      }
    }
    return;
  }
  if constexpr (kSlotPairs)
    if (phases == kSlotPairPhases) return store_pieces<T, N, kLoop, true>(out, row, t0, outputs, p, warp, lane);
  store_pieces<T, N, kLoop, false>(out, row, t0, outputs, p, warp, lane);
}

// The commit groups of the every-phase kernel: 16-bit ones of two k-steps (half a W^T chunk), so that a
// chunk whose second half lies past the reduction (KB74's 10 steps in 3 chunks of 4, T4's 6 in 2) skips
// it instead of running wgmmas on zeros; the other maths as they are.
template <class M>
struct GroupMath {
  using type = M;
};
template <class T16>
struct HalfChunkMath16 : Math16<T16> {
  static constexpr int kGroupSteps = 2;
};
template <class T16>
struct GroupMath<Math16<T16>> {
  using type = HalfChunkMath16<T16>;
};

// Row boxes: the row position of the first x column of tile w's window.
__device__ __forceinline__ int32_t window_start(const TileWalk<false>& w, const StreamParams& p) {
  return p.q_first + w.col_tile * kStreamPositions + p.x_base;
}

// The producer warp for row boxes: per tile of the walk `w`, the lanes share out the channel rows, box ci
// being x_cols elements of x read flat, from the 16 bytes at or before the window's start in channel ci of
// the tile's batch row, as far as it lies inside x (what lies outside x is outside the row too, which the
// consumer zeroes). Each lane arms the stage's "full" barrier for its own copies' bytes before issuing
// them (a phase's transaction count may run negative meanwhile), and lane 0's arrival, after every lane's,
// is the one the phase waits for, so it cannot complete before all the bytes are armed. (Summing the
// bytes over the warp for one arming first made T4's channels on rows of 32767 10 % slower, step 193.)
template <class T>
__device__ __forceinline__ void fill_x_rows(TileWalk<false> w, const StreamParams& p, const RowBoxParams& rb,
                                            unsigned char* x_stages, uint64_t* full, uint64_t* empty, int lane) {
  const T* x = static_cast<const T*>(rb.x);
  for (int32_t i = 0; w.tile < p.tiles; ++i, w.next()) {
    const int32_t start = window_start(w, p);
    if (i >= p.stages) ptx::mbar_wait(&empty[w.stage], w.parity ^ 1);
    unsigned char* stage = x_stages + size_t(w.stage) * p.stage_bytes;
    for (int32_t ci = lane; ci < rb.in_channels; ci += 32) {
      const RowBox c = row_box<sizeof(T)>((w.row * rb.in_channels + ci) * rb.in_length + start, p.x_cols,
                                          rb.x_elements);
      if (c.end > c.first) {
        const uint32_t bytes = uint32_t(c.end - c.first) * uint32_t(sizeof(T));
        hopper::mbar_expect_tx(&full[w.stage], bytes);
        hopper::bulk_load(stage + size_t(row_box_slot<sizeof(T)>(ci, p.ci_pad)) * p.x_box_bytes +
                              size_t(c.first - c.box) * sizeof(T),
                          x + c.first, bytes, &full[w.stage]);
      }
    }
    __syncwarp();
    if (lane == 0) ptx::mbar_arrive(&full[w.stage]);
  }
}

// The producer for residue maps: per tile of the walk `w`, box r (C_in / R rows of map r, from the batch row's
// first) into group r of the stage, read from r * L_in + start less its landing shift, a 16-byte column.
template <class T>
__device__ __forceinline__ void fill_x_residues(TileWalk<false> w, const StreamParams& p, const ResidueMaps& maps,
                                                const RowBoxParams& rb, unsigned char* x_stages, uint64_t* full,
                                                uint64_t* empty) {
  const ResidueStage& rs = rb.residue;
  for (int32_t i = 0; w.tile < p.tiles; ++i, w.next()) {
    const int32_t start = window_start(w, p);
    if (i >= p.stages) ptx::mbar_wait(&empty[w.stage], w.parity ^ 1);
    hopper::mbar_arrive_expect_tx(&full[w.stage], p.x_box_bytes * uint32_t(kResidueMaps));
    unsigned char* stage = x_stages + size_t(w.stage) * p.stage_bytes;
    for (int32_t r = 0; r < kResidueMaps; ++r)
      hopper::tma_load_2d(stage + size_t(r) * rs.group_elems * sizeof(T), &maps.maps[r],
                          r * rb.in_length + start - row_residue_landing(r, rs.length_mod),
                          w.row * rs.rows, &full[w.stage]);
  }
}

// Residue maps: in a window reaching left of its row (start < 0), the landed columns before the row's first
// position, which maps 1.. read from the previous rows' ends (map 0 from outside x: zeros already), zeroed by
// the 128 threads of consumer warpgroup h before any of them loads a fragment.
template <class T>
__device__ __forceinline__ void zero_left_of_row(unsigned char* stage, int32_t start, const RowBoxParams& rb, int h) {
  const ResidueStage& rs = rb.residue;
  T* x = reinterpret_cast<T*>(stage);
  for (int32_t r = 1; r < kResidueMaps; ++r) {
    const int32_t cols = row_residue_landing(r, rs.length_mod) - start;  // landed left of the row
    for (int32_t i = threadIdx.x % 128; i < rs.rows * cols; i += 128)
      x[r * rs.group_elems + i / cols * rs.x_cols + i % cols] = from_float<T>(0.0f);
  }
  hopper::fence_proxy_async();  // before the stage's next fill (async proxy), which this consumer's release allows
  ptx::bar_sync(kRowFixBarrier + h, 128);
}

// Row boxes: the columns of a landed window that lie outside its row, [0, in_length), zeroed by the 128
// threads of consumer warpgroup h (the only reader of the stage) before any of them loads a fragment.
// `f0` is the flat x index of channel 0's window start, `start` its position in the row. A uniform no-op
// for the tiles whose window lies inside the row.
template <class T>
__device__ __forceinline__ void zero_outside_row(unsigned char* stage, int32_t f0, int32_t start, const StreamParams& p,
                                                 const RowBoxParams& rb, int h) {
  if (start - kRowBoxMaxShift<sizeof(T)> >= 0 && start + p.x_cols <= rb.in_length) return;
  T* x = reinterpret_cast<T*>(stage);
  for (int32_t i = threadIdx.x % 128; i < rb.in_channels * p.x_cols; i += 128) {
    const int32_t ci = i / p.x_cols, c = i % p.x_cols;
    const int32_t position = row_box_position<sizeof(T)>(start, f0 + ci * rb.in_length, c);
    if (position < 0 || position >= rb.in_length)
      x[row_box_slot<sizeof(T)>(ci, p.ci_pad) * p.x_cols + c] = from_float<T>(0.0f);
  }
  hopper::fence_proxy_async();  // before the stage's next fill (async proxy), which this consumer's release allows
  ptx::bar_sync(kRowFixBarrier + h, 128);
}

// The consumers' table of step offsets ([stages][chunks][kStepsPerGroup], see the smem layout above), by every
// thread of the block before the set-up's barrier. A tile's steps then cost one table load per chunk instead of
// the walk over taps and channel rows, with its tests for the reduction's end (perf-log step 210).
template <class M>
__device__ __forceinline__ void fill_step_offsets(int32_t* table, const unsigned char* x_stages,
                                                  const unsigned char* zeros, const StreamParams& p, int32_t phases) {
  const int32_t chunks = p.phase_chunk[phases], per_stage = chunks * kStepsPerGroup;
  for (int32_t i = threadIdx.x; i < p.stages * per_stage; i += blockDim.x) {
    const int32_t s = i / per_stage, c = i % per_stage / kStepsPerGroup;
    int r = 0;
    while (r + 1 < phases && c >= p.phase_chunk[r + 1]) ++r;
    const int32_t j = (c - p.phase_chunk[r]) * kStepsPerGroup + i % kStepsPerGroup;  // the step in its phase
    table[i] = j < p.phase_steps[r]
                   ? step_offset(j, M::kStep, p.ci_pad, p.x_cols, -p.phase_shift[r] - p.x_base, p.shift_step)
                   : static_cast<int32_t>((zeros - (x_stages + size_t(s) * p.stage_bytes)) /
                                          int32_t(sizeof(typename M::T)));
  }
}

// kPhased: stride > 1. Stride 1 compiles without the phase loop (one phase, offsets folded).
// kRuns: tiles taken in runs (StreamTiling::tile_run). kRows: how x's rows arrive (XRows). kSkewY: y's rows
// staged skewed (StreamStores::Skewed, src/skewed_rows.hpp). kConsumers: the consumer warpgroups
// (StreamTiling::consumers), each with its staging.
template <class M, int N, bool kPhased, bool kRuns, XRows kRows, bool kSkewY, int kConsumers>
__global__ void __launch_bounds__(kWarpgroupThreads * (1 + kConsumers), 1)
    wgmma_stream_kernel(const __grid_constant__ XMaps<kRows> x_map, const __grid_constant__ StreamParams p,
                        const uint4* __restrict__ wt_image, const typename M::T* __restrict__ bias,
                        typename M::T* __restrict__ y, const __grid_constant__ RowBoxParams rb) {
#ifdef CONVT1D_SM90A_DEVICE
  using T = typename M::T;
  constexpr bool kRowBoxes = kRows == XRows::RowBoxes, kResidues = kRows == XRows::Residues;
  constexpr bool kFixUps = kRows != XRows::Tma;  // consumers write into landed windows, and read rows shifted
  // the period of the rows' shifts in a chunk's steps (RowShifts), 0 for 16-byte rows
  constexpr int kShiftPeriod = kResidues ? kResidueChunkSteps : kRowBoxes ? 3 - M::kRowsPerQ : 0;
  const int32_t phases = kPhased ? p.phases : 1;
  // The consumers' step offsets from the block's table (fill_step_offsets), but where tiles come in runs: there
  // (KB74 TF32, DRAM-bound) the table's faster consumers cost 4 % in bench runs, ncu showing 2.8 % more of x read
  // from DRAM (its halos, which neighbouring tiles share through L2, missing more often; perf-log step 210).
  constexpr bool kWalkSteps = kRuns;
  using G = typename GroupMath<M>::type;  // the commit groups' math (16-bit: half chunks, see GroupMath)
  constexpr bool kHalfChunks = !std::is_same_v<G, M>;
  // 16-bit with phases: at stride 2 each phase slot staged apart, the store warps interleaving the two
  constexpr bool kSlotPairs = sizeof(T) == 2 && kPhased;
  // The store warps' row loop: swizzle cycles where the consumers stage by stmatrix at stride 1 (elsewhere they
  // cost fp32 and strided layers 1.5-3 %, perf-log step 215)
  constexpr RowLoop kRowLoop = sizeof(T) == 2 && !kPhased ? RowLoop::Cycles
                               : M::kUnrolledStores        ? RowLoop::Unrolled4
                                                           : RowLoop::Plain;
  extern __shared__ unsigned char smem_raw[];
  unsigned char* smem = smem_raw + ((kSwizzlePeriod - (hopper::smem_addr(smem_raw) % kSwizzlePeriod)) % kSwizzlePeriod);
  unsigned char* wt = smem;
  unsigned char* x_stages = wt + p.weight_bytes;
  unsigned char* staging = x_stages + size_t(p.stages) * p.stage_bytes;
  unsigned char* zeros = staging + kConsumers * p.staging_bytes;  // what steps past the reduction read
  uint64_t* full = reinterpret_cast<uint64_t*>(zeros + p.zero_bytes);
  uint64_t* empty = full + p.stages;
  uint64_t* staged = empty + p.stages;  // [h]: consumer h's staging holds a tile (warp stores)
  uint64_t* drained = staged + kConsumers;  // [h]: the store warps have read it
  float* bias_s = reinterpret_cast<float*>(drained + kConsumers);  // N floats, zero past C_out
  // (16-byte aligned, as every region before it is a multiple of 16 bytes: read as int4 per chunk)
  int32_t* step_offsets = reinterpret_cast<int32_t*>(bias_s + kStreamMaxN);
  const int tid = threadIdx.x;
  const int wg = tid / 128;
  if (tid == 0) {
    // Row boxes and residue maps: every consumer thread releases its own reads and fix-up writes of the
    // stage, which the next fill overwrites.
    init_stage_barriers(full, empty, p.stages, kFixUps ? kWarpsPerConsumer * 32 : kWarpsPerConsumer);
    for (int h = 0; h < kConsumers; ++h) {
      // Every thread arrives (each releases its own staging accesses): count the threads.
      ptx::mbar_init(&staged[h], kWarpsPerConsumer * 32);
      ptx::mbar_init(&drained[h], kStoreWarps * 32);
    }
    hopper::fence_barrier_init();
  }
  if constexpr (kRowBoxes) {  // the slots of channel rows past C_in, which no copy fills, read as zeros
    // (transposed slots: inside the last group of 16, in its order)
    const int32_t from = row_box_transposed<sizeof(T)>(p.ci_pad)
                             ? rb.in_channels / kRowBoxSlotGroup * kRowBoxSlotGroup
                             : rb.in_channels;
    for (int32_t s = 0; s < p.stages; ++s) {
      T* rows = reinterpret_cast<T*>(x_stages + size_t(s) * p.stage_bytes) + from * p.x_cols;
      for (int32_t i = tid; i < (p.ci_pad - from) * p.x_cols; i += blockDim.x)
        if (row_box_slot<sizeof(T)>(from + i / p.x_cols, p.ci_pad) >= rb.in_channels)
          rows[i] = from_float<T>(0.0f);
    }
  }
  wait_prior_grid();  // (StreamTiling::overlap_packing: the set-up above ran during the packing)
  for (uint32_t i = tid; i < p.weight_bytes / 16; i += blockDim.x) reinterpret_cast<uint4*>(wt)[i] = wt_image[i];
  if constexpr (!kWalkSteps) fill_step_offsets<M>(step_offsets, x_stages, zeros, p, phases);
  finish_setup<N>(zeros, bias_s, bias, p);

  if (wg == 0) {  // producer
    if (kRowBoxes ? tid < 32 : tid == 0) {
      if constexpr (kRowBoxes)
        fill_x_rows<T>(tile_walk<kRuns>(blockIdx.x, gridDim.x, 0, 1, p), p, rb, x_stages, full, empty, tid);
      else if constexpr (kResidues)
        fill_x_residues<T>(tile_walk<kRuns>(blockIdx.x, gridDim.x, 0, 1, p), p, x_map, rb, x_stages, full, empty);
      else
        fill_x_stages(tile_walk<kRuns>(blockIdx.x, gridDim.x, 0, 1, p), kStreamPositions, p, &x_map, x_stages,
                      full, empty);
    } else if (tid >= 32 && tid / 32 <= kStoreWarps) {  // store warps 1-3: every tile
      const int sw = tid / 32 - 1, lane = tid % 32;
      auto w = tile_walk<kRuns>(blockIdx.x, gridDim.x, 0, 1, p);
      for (int32_t i = 0; w.tile < p.tiles; ++i, w.next()) {
        const int h = i % kConsumers;
        ptx::mbar_wait(&staged[h], static_cast<uint32_t>(i / kConsumers) & 1);
        const int32_t t0 = p.out_offset + w.col_tile * kStreamPositions * phases;
        store_rows<T, N, kRowLoop, kSkewY, kSlotPairs>(staging + h * p.staging_bytes,
                                           y + (int64_t(w.row) * p.out_channels + sw) * p.out_length, t0, phases, p,
                                           sw, lane);
        ptx::mbar_arrive(&drained[h]);
      }
    }
    return;
  }

  const int h = wg - 1;
  const int lane = tid % 32, warp = (tid % 128) / 32;
  const int g = lane / 4, q = lane % 4;
  unsigned char* out = staging + h * p.staging_bytes;
  const int32_t thread_off = M::kRowsPerQ * q * p.x_cols + 16 * warp + g;
  const uint32_t b_small = p.weight_bytes / M::kImages >> 4;  // descriptor units to the small parts' image
  // W^T's descriptor; a step's is this one plus its byte offset / 16 (the start-address field, which
  // holds any shared-memory address without carrying into the next field).
  const uint64_t wt_desc = hopper::matrix_desc(hopper::smem_addr(wt), 16, kCoreRows * kRowBytes, hopper::Swizzle::B128);
  AGroup<G> a0, a1;
  RowShifts<kShiftPeriod == 0 ? 1 : kShiftPeriod> shifts{};  // (row boxes: per tile, below)
  if constexpr (kResidues) {
#pragma unroll
    for (int kk = 0; kk < kResidueChunkSteps; ++kk) {
      const ResidueRows rr = residue_rows(rb.residue, q, kk);
      shifts.low[kk] = rr.low;
      shifts.high[kk] = rr.high;
      shifts.pair[kk] = rr.pair;
      shifts.pair_high[kk] = rr.pair_high;
    }
  }
  uint32_t n_tile = 0;  // this warpgroup's tiles so far
  for (auto w = tile_walk<kRuns>(blockIdx.x, gridDim.x, h, kConsumers, p); w.tile < p.tiles; w.next(), ++n_tile) {
    const int s = w.stage;
    unsigned char* stage = x_stages + size_t(s) * p.stage_bytes;
    int32_t skew[2] = {0, 0};  // kSkewY: the skews of this thread's channels 2q and 2q + 1 (mod 8) in this tile
    if constexpr (kSkewY) {
      const int64_t t0 = p.out_offset + int64_t(w.col_tile) * kStreamPositions * phases;
      const uint64_t at = reinterpret_cast<uintptr_t>(y) / sizeof(T) +
                          static_cast<uint64_t>((int64_t(w.row) * p.out_channels + 2 * q) * p.out_length + t0);
      skew[0] = row_skew(at);
      skew[1] = row_skew(at + static_cast<uint64_t>(p.out_length));
    }
    const T* xs = reinterpret_cast<const T*>(stage) + thread_off;
    const int32_t* stage_offsets = step_offsets + s * p.phase_chunk[phases] * kStepsPerGroup;
    int32_t start = 0, f0 = 0;  // row boxes: the window's first position, and its flat x index in channel 0
    if constexpr (kRowBoxes) {
      start = window_start(w, p);
      f0 = (w.row * rb.in_channels) * rb.in_length + start;
      if constexpr (M::kRowsPerQ == 2) {  // rows 2q, 2q + 8 share a shift, 2q + 1, 2q + 9 another
        const int32_t first = row_box_shift<sizeof(T)>(f0 + 2 * q * rb.in_length);
        shifts.low[0] = first;
        shifts.high[0] = 8 * p.x_cols;
        const int32_t second = row_box_shift<sizeof(T)>(f0 + (2 * q + 1) * rb.in_length);
        shifts.pair[0] = shifts.pair_high[0] = p.x_cols + second - first;
      } else if (row_box_transposed<sizeof(T)>(p.ci_pad)) {  // slots by the step's parity (row_box_slot_shift_row)
        int32_t row_shift[4];
#pragma unroll
        for (int i = 0; i < 4; ++i) row_shift[i] = row_box_shift<sizeof(T)>(f0 + i * rb.in_length);
#pragma unroll
        for (int parity = 0; parity < 2; ++parity) {
          shifts.low[parity] = row_shift[row_box_slot_shift_row(8 * parity)];
          shifts.high[parity] = 4 * p.x_cols + row_shift[row_box_slot_shift_row(8 * parity + 4)] - shifts.low[parity];
        }
      } else {  // slot ci holds channel ci: this thread's rows q and q + 4 share one shift
        const int32_t own = row_box_shift<sizeof(T)>(f0 + q * rb.in_length);
        shifts = RowShifts<2>{{own, own}, {4 * p.x_cols, 4 * p.x_cols}, {}, {}};
      }
    } else if constexpr (kResidues) {
      start = window_start(w, p);
    }
    for (int r = 0; r < phases; ++r) {  // phase r: outputs u = q * phases + r, its own taps
      float acc[2][N / 2];
      set_bias<N>(acc[0], bias_s, q);
      set_bias<N>(acc[1], bias_s, q);
      fence_acc<N>(acc[0]);  // both sets defined before the phase's first wgmma
      fence_acc<N>(acc[1]);
      if (r == 0) {  // (after the accumulators' set-up, which needs no x)
        ptx::mbar_wait(&full[s], w.parity);
        if constexpr (kRowBoxes) zero_outside_row<T>(stage, f0, start, p, rb, h);
        if constexpr (kResidues)
          if (start < 0) zero_left_of_row<T>(stage, start, rb, h);
      }
      const int32_t steps = p.phase_steps[r], c0 = p.phase_chunk[r], c_end = p.phase_chunk[r + 1];
      // Each chunk's step offsets: from the block's table, loaded a chunk ahead so that their latency is not on the
      // first fragment loads' path. kWalkSteps: walked through the taps here instead.
      const int4* by_chunk = reinterpret_cast<const int4*>(stage_offsets);
      int4 next{};
      if constexpr (!kWalkSteps) next = by_chunk[c0];
      int32_t ci0 = 0, col = -p.phase_shift[r] - p.x_base;  // (kWalkSteps) the first tap, channels 0..kStep-1
      for (int c = c0; c < c_end; ++c) {
        const int32_t step0 = (c - c0) * kStepsPerGroup;
        int32_t off[kStepsPerGroup];
        if constexpr (kWalkSteps) {
          chunk_offsets<M>(off, step0, steps, ci0, col, static_cast<int32_t>((zeros - stage) / int32_t(sizeof(T))), p);
        } else {
          const int4 o = next;
          if (c + 1 < c_end) next = by_chunk[c + 1];
          off[0] = o.x, off[1] = o.y, off[2] = o.z, off[3] = o.w;
        }
        if constexpr (kResidues) {  // past the reduction the first row reads the zero block itself
#pragma unroll
          for (int kk = 0; kk < kStepsPerGroup; ++kk)
            if (step0 + kk >= steps) off[kk] -= shifts.low[kk];
        }
        // Block 1 reads 64 columns on. From the table its zero reads may too: a thread's reads reach 2 * kBlockM
        // columns past its origin, and the zero block is a window's x_cols (>= 2 * kBlockM) wide. Row shifts move
        // reads further right, so there (and where the walk set the offsets) block 1's zero reads stay put.
        int32_t off1[kStepsPerGroup];
#pragma unroll
        for (int kk = 0; kk < kStepsPerGroup; ++kk)
          off1[kk] = off[kk] - ((kWalkSteps || kShiftPeriod > 0) && step0 + kk >= steps ? kBlockM : 0);
#pragma unroll
        for (int g0 = 0; g0 < kStepsPerGroup; g0 += G::kGroupSteps) {
          if (kHalfChunks && g0 > 0 && step0 + g0 >= steps) break;  // the chunk's rest lies past the reduction
          const uint64_t b_desc = wt_desc + ((uint32_t(c) * N * kRowBytes + g0 * kStepBytes) >> kDescAddrShift);
          mma_group<G, N, kShiftPeriod>(acc[0], a0, xs, off + g0, p.x_cols, b_desc, b_small, shifts, g0);
          fence_group<G>(a1);  // the previous group (block 1's) has retired: a1 may be rewritten
          mma_group<G, N, kShiftPeriod>(acc[1], a1, xs + kBlockM, off1 + g0, p.x_cols, b_desc, b_small, shifts, g0);
          fence_group<G>(a0);
        }
      }
      hopper::wgmma_wait<0>();
      fence_acc<N>(acc[0]);
      fence_acc<N>(acc[1]);
      if (r == phases - 1) {  // the x window is no longer read
        if constexpr (kFixUps) {
          ptx::mbar_arrive(&empty[s]);
        } else {
          __syncwarp();
          if (lane == 0) ptx::mbar_arrive(&empty[s]);
        }
      }
      // D[q][co] of phase r into the staging at output q * phases + r, once the store warps have
      // taken the staging's previous tile.
      if (r == 0 && n_tile > 0) ptx::mbar_wait(&drained[h], (n_tile - 1) & 1);
      const int32_t slot = !kPhased ? 0 : r >= p.rotation ? r - p.rotation : r + phases - p.rotation;
      if constexpr (kSkewY)
        stage_outputs_skewed<T, N>(out, acc, warp, g, q, phases, slot, skew);
      else if constexpr (sizeof(T) == 2) {
        if (!kPhased || phases == kSlotPairPhases)  // (slot 0 at stride 1)
          stage_output_matrices<T, N>(out + slot * slot_staging_bytes<N>(), acc, warp, lane);
        else
          stage_outputs<T, N>(out, acc, warp, g, q, phases, slot);
      } else {
        stage_outputs<T, N>(out, acc, warp, g, q, phases, slot);
      }
    }
    ptx::mbar_arrive(&staged[h]);  // the store warps take it from here
  }
#else
  __trap();  // never planned without sm_90a code (DeviceInfo::wgmma)
#endif
}

// Where each phase's taps lie in W and in the packed image (pack_stream_weights).
struct PackPhases {
  int32_t phases, tap_step;
  int32_t chunk[kStreamMaxPhases + 1], first_tap[kStreamMaxPhases], taps[kStreamMaxPhases];
};

// W^T in the kernel's shared-memory image: per group of n output channels (one group unless phase
// blocks split the channels), chunk c (of phase r), row co, the 128 bytes of reduction values
// v = (c - chunk[r]) * per_row + i, i.e. the phase's tap v / ci_pad (W's tap first_tap[r] + that *
// tap_step) and channel v % ci_pad; tf32-rounded fp32 or 16-bit as given, zero outside W; the 16-byte
// chunks of each row XORed with co mod 8 (the 128B swizzle wgmma's descriptor expects).
// kSplit (IEEE): the tf32 big parts, then an image of the small parts tf32(w - big) `count` elements on.
// Where the x stage's slots are not in channel order, channel v % ci_pad is the one in that slot: `transposed`
// (fp32 row boxes, row_box_slot), or `residues` (16-bit residue maps, row_residue_channel).
template <class T, bool kSplit>
__global__ void pack_stream_weights(const T* __restrict__ w, T* __restrict__ image, const __grid_constant__ PackPhases ph,
                                    int32_t c_in, int32_t c_out, int32_t kernel_size, int32_t ci_pad, int32_t n,
                                    int32_t count, bool transposed, bool residues) {
  constexpr int32_t kPerRow = kRowBytes / sizeof(T);
  allow_dependent_launch();  // the streaming kernel may set up while the packing runs
  const int32_t idx = blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= count) return;
  const int32_t per_chunk = n * kPerRow, per_group = ph.chunk[ph.phases] * per_chunk;
  const int32_t at = idx % per_group;  // within the group
  const int32_t c = at / per_chunk, row = at % per_chunk / kPerRow, i = at % kPerRow;
  const int32_t co = idx / per_group * n + row;
  int r = 0;
  while (r + 1 < ph.phases && c >= ph.chunk[r + 1]) ++r;
  const int32_t v = (c - ph.chunk[r]) * kPerRow + i, j = v / ci_pad;
  const int32_t slot = v % ci_pad;
  const int32_t ci = residues ? row_residue_channel(slot)
                     : transposed ? row_box_slot<sizeof(float)>(slot, ci_pad)
                                  : slot;
  const int32_t k = ph.first_tap[r] + j * ph.tap_step;
  const float value = j < ph.taps[r] && k < kernel_size && ci < c_in && co < c_out
                          ? to_float(w[(int64_t(ci) * c_out + co) * kernel_size + k])
                          : 0.0f;
  const int32_t byte = i * static_cast<int32_t>(sizeof(T));
  T* dst = image + (idx - at + c * per_chunk + row * kPerRow) +
           ((((byte >> 4) ^ (row & 7)) << 4) + (byte & 15)) / sizeof(T);
  if constexpr (sizeof(T) == 4) {
    const float big = __uint_as_float(ptx::to_tf32(value));
    *dst = big;
    if constexpr (kSplit) dst[count] = __uint_as_float(ptx::to_tf32(value - big));
  } else {
    *dst = from_float<T>(value);  // exact: value came from a T
  }
}
constexpr int kPackThreads = 256;

// The x maps of each XRows kind: none for row boxes (plain bulk copies), and for residue maps map r over the
// rows of x whose flat start is r modulo R (src/row_residues.hpp): from x itself, rows R * L_in apart,
// r * L_in + L_in columns (TMA zero-fills right of each row), boxes of a window's columns x C_in / R rows.
struct XMapSet {
  CUtensorMap x_map{};
  ResidueMaps residues{};
};
template <XRows kRows>
const XMaps<kRows>& maps_of(const XMapSet& m) {
  if constexpr (kRows == XRows::Residues)
    return m.residues;
  else
    return m.x_map;
}

template <class M, int N, bool kPhased, bool kRuns = false, XRows kRows = XRows::Tma, bool kSkewY = false,
          int kConsumers = 2>
void launch_n(const Plan& plan, const ForwardArgs& a, const XMapSet& maps, const StreamParams& p, const void* image) {
  const Shape& s = plan.shape;
  const StreamTiling& t = plan.stream;
  using T = typename M::T;
  RowBoxParams rb{};
  if constexpr (kRows != XRows::Tma) {
    rb.in_channels = static_cast<int32_t>(s.in_channels);
    rb.in_length = static_cast<int32_t>(s.in_length);
    rb.x = a.x;
  }
  if constexpr (kRows == XRows::RowBoxes)
    rb.x_elements = static_cast<int32_t>(s.batch * s.in_channels * s.in_length);  // (the plan keeps it 32-bit)
  if constexpr (kRows == XRows::Residues) rb.residue = t.residue;
  const int64_t smem = t.smem_bytes;
  constexpr auto kKernel = wgmma_stream_kernel<M, N, kPhased, kRuns, kRows, kSkewY, kConsumers>;
  if (t.consumers != kConsumers)
    fail(CONVT1D_INTERNAL_ERROR, "convt1d: wgmma_stream compiled for " + std::to_string(kConsumers) +
                                     " consumer warpgroups, planned with " + std::to_string(t.consumers));
  opt_in_smem<kKernel>(smem, a.device, "cudaFuncSetAttribute(wgmma_stream_kernel)");
  // With overlap_packing a programmatic dependent of the packing kernel: it waits for the image only
  // where it copies it.
  launch_dependent(t.overlap_packing, kKernel, t.grid, kWarpgroupThreads * (1 + kConsumers), smem,
                   static_cast<cudaStream_t>(a.stream), "wgmma_stream_kernel launch", maps_of<kRows>(maps), p,
                   static_cast<const uint4*>(image), static_cast<const T*>(a.bias), static_cast<T*>(a.y), rb);
}

// The instance of one x arrival and consumer count: phases compiled in (stride > 1) or folded out, y's rows
// staged skewed (16-bit at stride 1 only, StreamTiling::skewed_rows) or not.
template <class M, int N, XRows kRows, int kConsumers>
void launch_phases(const Plan& plan, const ForwardArgs& a, const XMapSet& maps, const StreamParams& p,
                   const void* image, bool skew_y) {
  const bool phased = plan.poly.phases > 1;
  if (skew_y) {
    if constexpr (M::kRowsPerQ == 2)
      if (!phased) return launch_n<M, N, false, false, kRows, true, kConsumers>(plan, a, maps, p, image);
    fail(CONVT1D_INTERNAL_ERROR, "convt1d: wgmma_stream skewed y rows are compiled for 16-bit at stride 1 only");
  }
  return phased ? launch_n<M, N, true, false, kRows, false, kConsumers>(plan, a, maps, p, image)
                : launch_n<M, N, false, false, kRows, false, kConsumers>(plan, a, maps, p, image);
}

// The instance of one x arrival: two consumer warpgroups, or in 16-bit three (StreamTiling::consumers).
template <class M, int N, XRows kRows>
void launch_rows(const Plan& plan, const ForwardArgs& a, const XMapSet& maps, const StreamParams& p, const void* image,
                 bool skew_y) {
  if constexpr (M::kRowsPerQ == 2)
    if (plan.stream.consumers == kStreamConsumers16)
      return launch_phases<M, N, kRows, kStreamConsumers16>(plan, a, maps, p, image, skew_y);
  return launch_phases<M, N, kRows, 2>(plan, a, maps, p, image, skew_y);
}

// The instance the tiling asks for at width N: tiles in runs (StreamTiling::tile_run) compiled for TF32 only,
// where the plan takes them (16-byte x and y rows), row boxes, residue maps for 16-bit only.
template <class M, int N>
void launch_width(const Plan& plan, const ForwardArgs& a, const XMapSet& maps, const StreamParams& p,
                  const void* image, StreamStores stores) {
  const bool phased = plan.poly.phases > 1;
  const bool skew_y = stores == StreamStores::Skewed;
  if ((plan.stream.odd_rows() || skew_y) && plan.stream.tile_run != 1)
    fail(CONVT1D_INTERNAL_ERROR, "convt1d: wgmma_stream row boxes, residue maps and skewed y rows take no tile runs");
  if (plan.stream.row_residues) {
    if constexpr (M::kRowsPerQ == 2) return launch_rows<M, N, XRows::Residues>(plan, a, maps, p, image, skew_y);
    fail(CONVT1D_INTERNAL_ERROR, "convt1d: wgmma_stream residue maps are compiled for 16-bit only");
  }
  if (plan.stream.row_boxes) return launch_rows<M, N, XRows::RowBoxes>(plan, a, maps, p, image, skew_y);
  if (plan.stream.tile_run == 1) return launch_rows<M, N, XRows::Tma>(plan, a, maps, p, image, skew_y);
  if constexpr (std::is_same_v<M, Tf32Math>)
    return phased ? launch_n<M, N, true, true>(plan, a, maps, p, image)
                  : launch_n<M, N, false, true>(plan, a, maps, p, image);
  fail(CONVT1D_INTERNAL_ERROR, "convt1d: wgmma_stream tile runs are compiled for TF32 only");
}

template <class M>
void launch_math(const Plan& plan, const ForwardArgs& a, CUtensorMapDataType type) {
  using T = typename M::T;
  const Shape& s = plan.shape;
  const StreamTiling& t = plan.stream;
  const auto stream = static_cast<cudaStream_t>(a.stream);
  constexpr int64_t kElem = sizeof(T);
  // W^T's shared-memory image in a stream-ordered workspace (pool-cached, graph-capturable).
  StreamBuffer image_buffer(static_cast<size_t>(t.image_bytes), stream, "packed W^T");
  void* image = image_buffer.as<void>();
  const int32_t count = static_cast<int32_t>(t.image_bytes / M::kImages / kElem);  // elements of one image
  const Polyphase& poly = plan.poly;
  PackPhases ph{};
  ph.phases = poly.phases;
  ph.tap_step = poly.tap_step;
  for (int r = 0; r <= poly.phases; ++r) ph.chunk[r] = t.phase_chunk[r];
  for (int r = 0; r < poly.phases; ++r) {
    ph.first_tap[r] = poly.taps[static_cast<size_t>(r)].first_tap;
    ph.taps[r] = poly.taps[static_cast<size_t>(r)].count;
  }
  pack_stream_weights<T, (M::kImages > 1)><<<(count + kPackThreads - 1) / kPackThreads, kPackThreads, 0, stream>>>(
      static_cast<const T*>(a.w), static_cast<T*>(image), ph, static_cast<int32_t>(s.in_channels),
      static_cast<int32_t>(s.out_channels), static_cast<int32_t>(s.kernel_size), t.ci_pad, t.n, count,
      t.row_boxes && row_box_transposed<kElem>(t.ci_pad), t.row_residues);
  cuda_check_launch("pack_stream_weights launch");

  const auto batch = static_cast<cuuint64_t>(s.batch);
  const auto l_in = static_cast<cuuint64_t>(s.in_length), c_in = static_cast<cuuint64_t>(s.in_channels);
  const CUtensorMapL2promotion promotion =
      t.wide_x_fetch() ? CU_TENSOR_MAP_L2_PROMOTION_L2_256B : CU_TENSOR_MAP_L2_PROMOTION_L2_128B;
  XMapSet maps;
  if (t.row_residues) {
    constexpr cuuint64_t residues = kResidueMaps;
    const auto rows = static_cast<cuuint32_t>(c_in / residues);
    for (int32_t r = 0; r < kResidueMaps; ++r)
      maps.residues.maps[r] = tensor_map<2>(type, a.x, {(r + 1) * l_in, batch * c_in / residues},
                                            {residues * l_in * kElem}, {static_cast<cuuint32_t>(t.x_cols), rows},
                                            CU_TENSOR_MAP_SWIZZLE_NONE, "x residue", promotion);
  } else if (!t.row_boxes) {  // (row boxes read x by plain bulk copies: no map could step through their rows)
    maps.x_map = tensor_map<3>(type, a.x, {l_in, c_in, batch}, {l_in * kElem, l_in * c_in * kElem},
                               {static_cast<cuuint32_t>(t.x_cols), static_cast<cuuint32_t>(t.ci_pad / t.x_parts), 1},
                               CU_TENSOR_MAP_SWIZZLE_NONE, "x", promotion);
  }
  StreamParams p{};
  p.tiles = static_cast<int32_t>(t.tiles);
  p.tiles_per_row = static_cast<int32_t>(t.tiles_per_row);
  p.out_length = static_cast<int32_t>(s.out_length);
  p.out_channels = static_cast<int32_t>(s.out_channels);
  p.ci_pad = t.ci_pad;
  p.x_cols = t.x_cols;
  p.x_base = t.x_base;
  p.stages = t.stages;
  p.phases = poly.phases;
  p.shift_step = poly.shift_step;
  p.q_first = static_cast<int32_t>(t.q_first);
  p.out_offset = static_cast<int32_t>(stream_out_offset(s, t));
  for (int r = 0; r <= poly.phases; ++r) p.phase_chunk[r] = t.phase_chunk[r];
  // Every-phase tiles with rotated phases compute phases r >= rotation one position left (q - 1): one
  // more x column back, as if their taps shifted one further. (Phase blocks rotate in their kernel.)
  p.rotation = t.phase_blocks ? 0 : t.rotation;
  for (int r = 0; r < poly.phases; ++r) {
    p.phase_steps[r] = t.phase_steps[r];
    p.phase_shift[r] = poly.taps[static_cast<size_t>(r)].first_shift + (p.rotation != 0 && r >= p.rotation ? 1 : 0);
  }
  // Tile starts are out_offset + 128*stride*j: with rows and that offset multiples of 4, every piece
  // a lane stores starts aligned.
  const StreamStores stores = stream_stores(s, t, plan.dtype, reinterpret_cast<uintptr_t>(a.y));
  p.vec_rows = stores == StreamStores::Vectors;
  // 16-bit channel groups at stride 2 or 4 whose slots start on multiples of the stride (padding a
  // multiple of it, or rotated): with rows of whole strides a thread's outputs of a row leave as one
  // vector.
  const int64_t slot_bytes = kElem * s.stride;
  p.vec_slots = kElem == 2 && t.phase_blocks && t.block_phases > 1 && (s.stride == 2 || s.stride == 4) &&
                p.out_offset % s.stride == 0 && s.out_length % s.stride == 0 &&
                reinterpret_cast<uintptr_t>(a.y) % slot_bytes == 0;
  // At stride 2 with slots on multiples of 4 (rotated tilings place them so), neighbouring lanes swap
  // a channel's slot pair and store two positions' four outputs as one 8-byte vector.
  p.vec_pairs = p.vec_slots && s.stride == 2 && p.out_offset % (2 * s.stride) == 0 &&
                s.out_length % (2 * s.stride) == 0 && reinterpret_cast<uintptr_t>(a.y) % (2 * slot_bytes) == 0;
  p.paced = t.cluster > 1;
  p.groups = t.groups;
  p.tile_run = t.tile_run;
  p.zero_bytes = static_cast<uint32_t>(t.zero_bytes);
  p.staging_bytes = static_cast<uint32_t>(t.staging_bytes);
  p.x_parts = t.x_parts;
  const int64_t box_rows = t.row_boxes         ? 1
                           : t.row_residues     ? s.in_channels / kResidueMaps
                                                : int64_t{t.ci_pad} / t.x_parts;
  p.x_box_bytes = static_cast<uint32_t>(box_rows * t.x_cols * kElem);
  p.stage_bytes = static_cast<uint32_t>(t.stage_bytes);
  p.weight_bytes = static_cast<uint32_t>(t.weight_bytes);
  p.image_bytes = static_cast<uint32_t>(t.image_bytes / M::kImages);
  if (t.phase_blocks)
    launch_phase_blocks<M>(plan, a, maps.x_map, p, image);
  else if (t.n == 64)
    launch_width<M, 64>(plan, a, maps, p, image, stores);
  else if (t.n == 32)
    launch_width<M, 32>(plan, a, maps, p, image, stores);
  else
    fail(CONVT1D_INTERNAL_ERROR, "convt1d: wgmma_stream width " + std::to_string(t.n) + " not compiled");
  image_buffer.release();
}

}  // namespace

void launch_wgmma_stream(const Plan& plan, const ForwardArgs& a) {
  if (plan.dtype == CONVT1D_FLOAT32 && plan.math == CONVT1D_MATH_IEEE)
    launch_math<IeeeMath>(plan, a, CU_TENSOR_MAP_DATA_TYPE_FLOAT32);
  else if (plan.dtype == CONVT1D_FLOAT32)
    launch_math<Tf32Math>(plan, a, CU_TENSOR_MAP_DATA_TYPE_FLOAT32);
  else if (plan.dtype == CONVT1D_FLOAT16)
    launch_math<Math16<__half>>(plan, a, CU_TENSOR_MAP_DATA_TYPE_FLOAT16);
  else
    launch_math<Math16<__nv_bfloat16>>(plan, a, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16);
}

}  // namespace convt1d::detail
