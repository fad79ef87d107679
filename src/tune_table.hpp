// Measured kernel choices (`convt1d tune`) that later runs read: a text table of the fastest algorithm
// per (device, dtype, fp32 math, shape class), named by the CONVT1D_TUNE_FILE environment variable.
// Pure C++: the CLI writes the table, dispatch.cpp reads it for AUTO problems on CUDA.
//
// File format: one entry per line, tab-separated fields in the order of TuneEntry; '#' starts a
// comment line. The shape class is every field of the problem except batch and in_length, which are
// reduced to their bit widths (1; 2-3; 4-7; ...), so one measurement covers the lengths of one octave.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "convt1d/convt1d.h"

namespace convt1d::detail {

struct TuneEntry {
  std::string device;  // the CUDA device name, as cudaGetDeviceProperties gives it
  int32_t dtype = CONVT1D_FLOAT32;
  int32_t math = -1;   // fp32 only (CONVT1D_MATH_*); -1 for the other dtypes, whose math has no modes
  int64_t in_channels = 0, out_channels = 0, kernel_size = 0, stride = 0, padding = 0, output_padding = 0,
          dilation = 0, groups = 0;
  int32_t has_bias = 0;
  int32_t batch_class = 0, length_class = 0;  // bit widths of batch and in_length
  int32_t algorithm = CONVT1D_ALGO_AUTO;      // the measured winner (never AUTO in a file)
};

int32_t size_class(int64_t n);  // bit width of n >= 1: 1 -> 1, 2..3 -> 2, 4..7 -> 3, ...

// The entry a problem looks up on `device` (algorithm AUTO).
TuneEntry tune_key(const convt1d_problem& p, const std::string& device);
bool same_key(const TuneEntry& a, const TuneEntry& b);  // every field but the algorithm

struct TuneTable {
  std::vector<TuneEntry> entries;
  int32_t find(const TuneEntry& key) const;  // the algorithm of the entry with this key, else AUTO
  void put(const TuneEntry& entry);          // adds, or replaces the entry with the same key
  void remove(const TuneEntry& key);         // drops the entry with this key, if any
};

// Throws ApiError(INVALID_ARGUMENT) "<source>:<line>: <what is wrong>" on a malformed line.
TuneTable parse_tune_table(const std::string& text, const std::string& source);
std::string format_tune_table(const TuneTable& table);

// Reads a table file; a missing file is an empty table when missing_ok, else an error.
TuneTable load_tune_file(const std::string& path, bool missing_ok);
// Writes it whole (to path.tmp, then renamed over path). Throws ApiError on an I/O failure.
void save_tune_file(const std::string& path, const TuneTable& table);

// `p` with the algorithm CONVT1D_TUNE_FILE gives for it on `device`: unchanged unless p.algorithm is
// AUTO and the file has an entry. The file is read when the variable first names it (again when it
// changes); one that cannot be read or parsed throws ApiError(INVALID_ARGUMENT) on every call.
convt1d_problem tuned_problem(const convt1d_problem& p, const std::string& device);
bool tune_file_named();  // CONVT1D_TUNE_FILE is set and not empty

}  // namespace convt1d::detail
