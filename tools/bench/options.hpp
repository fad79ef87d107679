// Command-line options of `convt1d bench`, parsed into a plain struct so the rules are testable.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/modes.hpp"

namespace convt1d::bench {

constexpr int kMinRepeats = 50;

struct BenchOptions {
  bool help = false;
  bool use_suite = false;         // --suite given (all its cases unless --case narrows them)
  std::string suite_path;         // empty: default_suite_path()
  std::vector<std::string> case_ids;  // --case, split on commas
  std::vector<Mode> modes = all_modes();
  std::string json_path;
  int repeats = kMinRepeats;
  bool repeats_given = false;
  int warmup = 10;
  bool warmup_given = false;
  bool quick = false;             // allows --repeats below kMinRepeats (smoke runs, profiling)
  int32_t algorithm = CONVT1D_ALGO_AUTO;
  bool no_baseline = false;       // skip cuDNN (profiling our kernels alone)
  bool no_roofline = false;       // skip the copy-bandwidth and GEMM probes
  bool packed_weights = false;    // ours on weights packed once per case (convt1d_pack_weight), untimed
  uint64_t seed = 20240601;
};

// argv holds only the options (no program or command name). False with *error naming the option,
// what it expects and what was given.
bool parse_bench_options(int argc, char** argv, BenchOptions* out, std::string* error);

// "auto|direct|implicit_gemm|wgmma" -> convt1d_algorithm; false on anything else.
bool parse_algorithm(const std::string& text, int32_t* algorithm);
const char* algorithm_name(int32_t algorithm);

const char* bench_usage();

}  // namespace convt1d::bench

#include "bench/suite.hpp"

namespace convt1d::bench {

// The cases a run measures: the headline alone by default; with --suite all of the suite file; with
// --case the named ones (from --suite FILE, else the default suite). False with *error on an unreadable
// or malformed suite (every bad line listed) or unknown ids.
bool resolve_cases(const BenchOptions& opts, std::vector<BenchCase>* cases, std::string* error);

}  // namespace convt1d::bench
