// Results of a benchmark run and their three renderings: one line per case as it finishes, the
// summary table at the end, and JSON for python -m convt1d.plot.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "bench/check_result.hpp"
#include "bench/metrics.hpp"
#include "bench/modes.hpp"
#include "convt1d/convt1d.h"

namespace convt1d::bench {

// One implementation's outcome on one case.
struct Timing {
  enum class Status { NotRun, Ok, Fail, Error, Unsupported };
  Status status = Status::NotRun;
  Stats ms;
  CheckResult check;   // against the fp64 reference
  std::string detail;  // error text (Error/Unsupported) or the chosen algorithm (cuDNN)
  bool ok() const { return status == Status::Ok; }
};
const char* status_name(Timing::Status s);

struct CaseResult {
  std::string id, model;
  Mode mode = Mode::TF32;
  convt1d_problem problem{};  // as run (dtype/math set)
  double bytes = 0, flops = 0, floor_ms = 0;
  Timing ours, cudnn_heuristic, cudnn_best;
  double ours_vs_cudnn_rel = -1;  // ours vs cuDNN at the sampled positions; < 0 when not compared
};

struct BenchReport {
  std::string backend = "cuda";  // or "cpu"
  std::string device_name;
  int sm_count = 0;
  long long l2_bytes = 0;
  double copy_gbps = 0;             // 0: not measured
  double gemm_tflops[4] = {0, 0, 0, 0};  // indexed by Mode; 0: not measured
  std::string cudnn;                // "9.19.0", or why there is no baseline
  bool cudnn_available = false;
  int repeats = 0, warmup = 0;
  std::string algorithm = "auto";
  std::vector<std::string> notes;
  std::vector<CaseResult> cases;
};

// Fills bytes, flops and floor_ms from the problem and the report's copy bandwidth.
void fill_roofline(CaseResult* c, double copy_gbps);

// Our time failed the check or errored: the run must exit non-zero.
bool is_failure(const CaseResult& c);
int count_failures(const BenchReport& r);

// Geometric mean of ours-vs-baseline speedups over the cases of one mode (NaN when none).
double geomean_speedup(const BenchReport& r, Mode mode, bool vs_best);

void print_case_line(std::FILE* out, const CaseResult& c);
void print_summary(std::FILE* out, const BenchReport& r);
void print_table(std::FILE* out, const BenchReport& r);
std::string to_json(const BenchReport& r);

}  // namespace convt1d::bench
