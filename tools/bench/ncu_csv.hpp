// Reading Nsight Compute's `--csv` output (one row per kernel launch and metric) for `convt1d profile`.
// The column order differs between ncu versions, so columns are found by their header names.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace convt1d::bench {

// The ncu kernel filter that matches every kernel of ours (and none of cuDNN's or the benchmark's).
inline constexpr const char* kOurKernelsRegex =
    "regex:convt1d|implicit|direct|wgmma|col2im|narrow|pack_|widen|finish_split|transpose_tf32|pad_rows|join_rows";

struct KernelMetrics {
  std::string id;      // ncu's launch ID
  std::string kernel;  // demangled kernel name
  std::vector<std::pair<std::string, std::string>> metrics;  // metric name -> "value unit"
};

struct NcuParse {
  std::vector<KernelMetrics> kernels;  // in launch order
  std::string error;                   // empty when the output had a CSV table
};

// Lines that are not part of the CSV table (ncu's ==PROF== chatter, the profiled program's output)
// are skipped.
NcuParse parse_ncu_csv(const std::string& output);

// A plain explanation when ncu could not profile (no permission for the counters, no kernel
// matched, ncu errors); empty when the output looks fine.
std::string ncu_failure(const std::string& output);

}  // namespace convt1d::bench
