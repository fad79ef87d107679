// `convt1d tune`: times every algorithm that can run each case and mode (each result checked against
// the fp64 reference first, as in `convt1d bench`), and records in a tune table (src/tune_table.hpp)
// the cases where one beats AUTO's own choice by more than the noise margin. Later runs that name the
// table in CONVT1D_TUNE_FILE use the recorded algorithm for every problem of that shape class.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "bench/options.hpp"
#include "bench/report.hpp"
#include "bench/runners.hpp"
#include "bench/tune_rule.hpp"
#include "commands.hpp"
#include "convt1d/convt1d.h"
#include "problem.hpp"
#include "tune_table.hpp"

namespace convt1d::cli {

namespace {

// Tried in place of AUTO. `direct` is not: AUTO already takes it where it is the only kernel
// (depthwise, fp64), and it is orders of magnitude slower elsewhere.
constexpr int32_t kCandidates[] = {CONVT1D_ALGO_IMPLICIT_GEMM, CONVT1D_ALGO_WGMMA, CONVT1D_ALGO_WGMMA_STREAM,
                                   CONVT1D_ALGO_NARROW};

const char* tune_usage() {
  return "usage: convt1d tune [--out FILE] [bench options]\n"
         "  Times AUTO and every algorithm it could force (implicit_gemm, wgmma, wgmma_stream, narrow) on\n"
         "  the cases and modes given as to `convt1d bench` (--case, --suite, --mode, --repeats, --warmup,\n"
         "  --quick, --seed; default: KernelBench #74 in all modes), and writes into FILE the cases where\n"
         "  one beats AUTO by more than 3 %, then again when the two are timed back to back, replacing\n"
         "  earlier entries of the same shape class (and dropping those AUTO now wins). Later runs read\n"
         "  FILE when CONVT1D_TUNE_FILE names it.\n"
         "  --out FILE   the tune table (default: $CONVT1D_TUNE_FILE, else convt1d_tune.tsv)\n";
}

}  // namespace

int run_tune(int argc, char** argv) {
  using namespace convt1d::bench;
  std::string out_path;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(tune_usage(), stdout);
      return 0;
    }
    if (arg == "--out" || arg.rfind("--out=", 0) == 0) {
      if (arg == "--out" && i + 1 >= argc) {
        std::fprintf(stderr, "convt1d tune: --out needs a value (the tune table file)\n");
        return 2;
      }
      out_path = arg == "--out" ? argv[++i] : arg.substr(6);
      continue;
    }
    if (arg == "--algo" || arg.rfind("--algo=", 0) == 0 || arg == "--json" || arg.rfind("--json=", 0) == 0) {
      std::fprintf(stderr, "convt1d tune: %s is not an option of tune (it times every algorithm)\n", arg.c_str());
      return 2;
    }
    rest.push_back(argv[i]);
  }
  if (out_path.empty()) {
    const char* env = std::getenv("CONVT1D_TUNE_FILE");
    out_path = env && env[0] ? env : "convt1d_tune.tsv";
  }
  BenchOptions opts;
  std::string error;
  if (!parse_bench_options(static_cast<int>(rest.size()), rest.data(), &opts, &error)) {
    std::fprintf(stderr, "convt1d tune: %s\n", error.c_str());
    return 2;
  }
  std::vector<BenchCase> cases;
  if (!resolve_cases(opts, &cases, &error)) {
    std::fprintf(stderr, "convt1d tune: %s\n", error.c_str());
    return 2;
  }
  if (convt1d_cuda_device_count() == 0) {
    std::fprintf(stderr, "convt1d tune: needs a CUDA device (the table records GPU kernel choices)\n");
    return 1;
  }
#ifdef CONVT1D_WITH_CUDA
  opts.no_baseline = true;
  opts.no_roofline = true;
  try {
    // Read first, so that a malformed table stops the run before any timing.
    detail::TuneTable table = detail::load_tune_file(out_path, true);
    std::map<std::pair<std::string, Mode>, std::vector<std::pair<int32_t, double>>> times;  // ok runs only
    std::map<std::pair<std::string, Mode>, convt1d_problem> problems;
    std::string device;
    for (int32_t algorithm : {static_cast<int32_t>(CONVT1D_ALGO_AUTO), kCandidates[0], kCandidates[1], kCandidates[2],
                              kCandidates[3]}) {
      std::printf("== %s\n", algorithm_name(algorithm));
      opts.algorithm = algorithm;
      BenchReport report;
      run_gpu_bench(opts, cases, &report);
      device = report.device_name;
      for (const CaseResult& r : report.cases) {
        problems[{r.id, r.mode}] = r.problem;
        if (r.ours.ok()) times[{r.id, r.mode}].push_back({algorithm, r.ours.ms.median});
      }
    }
    // The fastest forced algorithm per case and mode, and the pairs that beat AUTO in this first pass.
    struct Pick {
      double auto_ms = -1, best_ms = -1, auto_again = -1, best_again = -1;
      int32_t best = CONVT1D_ALGO_AUTO;
    };
    std::map<std::pair<std::string, Mode>, Pick> picks;
    for (const auto& [key, runs] : times) {
      Pick pick;
      for (const auto& [algorithm, ms] : runs) {
        if (algorithm == CONVT1D_ALGO_AUTO) pick.auto_ms = ms;
        else if (pick.best_ms < 0 || ms < pick.best_ms) pick.best_ms = ms, pick.best = algorithm;
      }
      if (pick.auto_ms < 0 || pick.best_ms < 0) continue;  // AUTO failed (reported by the bench above) or no rival ran
      picks[key] = pick;
    }
    // Confirmation round: each apparent win timed again, the algorithm and then AUTO back to back (the
    // first pass timed AUTO first), per mode and algorithm over just those cases.
    std::map<std::pair<Mode, int32_t>, std::vector<std::string>> recheck;
    for (const auto& [key, pick] : picks)
      if (beats_auto(pick.auto_ms, pick.best_ms)) recheck[{key.second, pick.best}].push_back(key.first);
    for (const auto& [group, ids] : recheck) {
      const auto& [mode, algorithm] = group;
      std::vector<BenchCase> again;
      for (const BenchCase& c : cases)
        for (const std::string& id : ids)
          if (c.id == id) again.push_back(c);
      BenchOptions opts_again = opts;
      opts_again.modes = {mode};
      for (const int32_t run : {algorithm, static_cast<int32_t>(CONVT1D_ALGO_AUTO)}) {
        std::printf("== confirming %s against auto (%s): %s\n", algorithm_name(algorithm), mode_name(mode),
                    algorithm_name(run));
        opts_again.algorithm = run;
        BenchReport report;
        run_gpu_bench(opts_again, again, &report);
        for (const CaseResult& r : report.cases) {
          if (!r.ours.ok()) continue;
          Pick& pick = picks[{r.id, r.mode}];
          (run == CONVT1D_ALGO_AUTO ? pick.auto_again : pick.best_again) = r.ours.ms.median;
        }
      }
    }
    std::printf("\n%-8s %-10s %10s %-14s %10s %7s %s\n", "case", "mode", "auto ms", "best", "best ms", "gain",
                "(confirmation round: auto ms / best ms)");
    int recorded = 0;
    for (const auto& [key, pick] : picks) {
      convt1d_problem p = problems[key];
      p.algorithm = CONVT1D_ALGO_AUTO;
      detail::TuneEntry entry = detail::tune_key(p, device);
      const bool wins = tune_records(pick.auto_ms, pick.best_ms, pick.auto_again, pick.best_again);
      if (wins) {
        entry.algorithm = pick.best;
        table.put(entry);
        ++recorded;
      } else {
        table.remove(entry);
      }
      std::printf("%-8s %-10s %10.4f %-14s %10.4f %6.1f%%", key.first.c_str(), mode_name(key.second), pick.auto_ms,
                  algorithm_name(pick.best), pick.best_ms, 100 * (pick.auto_ms / pick.best_ms - 1));
      if (pick.auto_again > 0 || pick.best_again > 0)
        std::printf("  %.4f / %.4f%s", pick.auto_again, pick.best_again, wins ? "  recorded" : "  not confirmed");
      std::printf("\n");
    }
    detail::save_tune_file(out_path, table);
    std::printf("%d entr%s recorded; %s now holds %zu (CONVT1D_TUNE_FILE=%s makes runs use it)\n", recorded,
                recorded == 1 ? "y" : "ies", out_path.c_str(), table.entries.size(), out_path.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "convt1d tune: %s\n", e.what());
    return 1;
  }
  return 0;
#else
  return 1;
#endif
}

}  // namespace convt1d::cli
