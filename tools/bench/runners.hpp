// The two ways a benchmark runs: on the GPU against cuDNN (gpu_runner.cpp, CUDA builds only) and,
// without a CUDA device, on the CPU backend at a reduced size (cpu_runner.cpp).
#pragma once

#include <vector>

#include "bench/options.hpp"
#include "bench/report.hpp"
#include "bench/suite.hpp"

namespace convt1d::bench {

// Each fills report (ceilings, one CaseResult per case and mode), printing a line per result to stdout
// and progress to stderr. Per-case failures are recorded, not thrown.
void run_gpu_bench(const BenchOptions& opts, const std::vector<BenchCase>& cases, BenchReport* report);
void run_cpu_bench(const BenchOptions& opts, const std::vector<BenchCase>& cases, BenchReport* report);

// The problem shrunk (L_in to at most 4096, then batch, then L_in) until it needs at most flop_budget
// FLOPs, staying valid.
convt1d_problem reduce_for_cpu(convt1d_problem p, double flop_budget);

}  // namespace convt1d::bench
