// `convt1d bench`: options -> cases -> the GPU run against cuDNN, or the CPU backend without a GPU ->
// table, summary, JSON. Exit code 0 only when every result of ours was checked correct.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "bench/options.hpp"
#include "bench/report.hpp"
#include "bench/runners.hpp"
#include "commands.hpp"
#include "convt1d/convt1d.h"

namespace convt1d::cli {

int run_bench(int argc, char** argv) {
  using namespace convt1d::bench;
  BenchOptions opts;
  std::string error;
  if (!parse_bench_options(argc, argv, &opts, &error)) {
    std::fprintf(stderr, "convt1d bench: %s\n", error.c_str());
    return 2;
  }
  if (opts.help) {
    std::fputs(bench_usage(), stdout);
    return 0;
  }
  std::vector<BenchCase> cases;
  if (!resolve_cases(opts, &cases, &error)) {
    std::fprintf(stderr, "convt1d bench: %s\n", error.c_str());
    return 2;
  }

  BenchReport report;
  report.repeats = opts.repeats;
  report.warmup = opts.warmup;
  report.algorithm = algorithm_name(opts.algorithm);
  try {
#ifdef CONVT1D_WITH_CUDA
    const bool gpu = convt1d_cuda_device_count() > 0;
#else
    const bool gpu = false;
#endif
    if (gpu) {
#ifdef CONVT1D_WITH_CUDA
      run_gpu_bench(opts, cases, &report);
#endif
    } else {
      run_cpu_bench(opts, cases, &report);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "convt1d bench: %s\n", e.what());
    return 1;
  }

  print_table(stdout, report);
  std::printf("\n");
  if (report.backend == "cuda") print_summary(stdout, report);
  const int failures = count_failures(report);
  if (report.backend != "cuda") std::printf("%d case(s) run, %d failure(s)\n", static_cast<int>(report.cases.size()), failures);
  if (!opts.json_path.empty()) {
    std::ofstream out(opts.json_path);
    out << to_json(report);
    if (!out) {
      std::fprintf(stderr, "convt1d bench: cannot write --json file %s\n", opts.json_path.c_str());
      return 1;
    }
    std::printf("wrote %s\n", opts.json_path.c_str());
  }
  if (failures) {
    std::fprintf(stderr, "convt1d bench: %d result(s) of ours FAILED the correctness check or errored\n", failures);
    return 1;
  }
  return 0;
}

}  // namespace convt1d::cli
