#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "bench/check_result.hpp"
#include "bench/host_data.hpp"
#include "bench/runners.hpp"
#include "convt1d/convt1d.hpp"
#include "problem.hpp"

namespace convt1d::bench {

namespace {

// FLOPs per CPU case: about a second per run on a small CI machine.
constexpr double kCpuFlopBudget = 1e9;
constexpr int kCpuRepeats = 5;
constexpr int kCpuWarmup = 1;

bool valid(const convt1d_problem& p) { return convt1d_validate(&p) == CONVT1D_OK; }

}  // namespace

convt1d_problem reduce_for_cpu(convt1d_problem p, double flop_budget) {
  auto shrink = [&](int64_t convt1d_problem::*field, int64_t to) {
    convt1d_problem q = p;
    q.*field = to;
    if (valid(q)) p = q;
    return valid(q);
  };
  if (p.in_length > 4096) shrink(&convt1d_problem::in_length, 4096);
  while (flops_of(p) > flop_budget && p.batch > 1) shrink(&convt1d_problem::batch, p.batch / 2);
  while (flops_of(p) > flop_budget && p.in_length > 1) {
    if (!shrink(&convt1d_problem::in_length, p.in_length / 2)) break;
  }
  return p;
}

void run_cpu_bench(const BenchOptions& opts, const std::vector<BenchCase>& cases, BenchReport* report) {
  std::printf("no CUDA device: running the CPU backend at a reduced size (no cuDNN baseline)\n");
  report->backend = "cpu";
  report->device_name = "CPU backend (convt1d, OpenMP)";
  report->cudnn = "not run: no CUDA device";
  report->notes.push_back("no CUDA device: CPU backend at a reduced size, no baseline");
  const int repeats = opts.repeats_given ? opts.repeats : kCpuRepeats;
  const int warmup = opts.warmup_given ? opts.warmup : kCpuWarmup;
  report->repeats = repeats;
  report->warmup = warmup;

  const std::size_t total = cases.size() * opts.modes.size();
  std::size_t done = 0;
  for (const BenchCase& bc : cases) {
    const convt1d_problem reduced = reduce_for_cpu(bc.problem, kCpuFlopBudget);
    if (reduced.in_length != bc.problem.in_length || reduced.batch != bc.problem.batch) {
      std::printf("%s: reduced from B %lld, L_in %lld to B %lld, L_in %lld\n", bc.id.c_str(),
                  static_cast<long long>(bc.problem.batch), static_cast<long long>(bc.problem.in_length),
                  static_cast<long long>(reduced.batch), static_cast<long long>(reduced.in_length));
    }
    for (Mode mode : opts.modes) {
      std::fprintf(stderr, "[%zu/%zu] %s %s ...\n", ++done, total, bc.id.c_str(), mode_name(mode));
      CaseResult r;
      r.id = bc.id;
      r.model = bc.model;
      if (reduced.in_length != bc.problem.in_length || reduced.batch != bc.problem.batch) {
        r.model += " [reduced to B " + std::to_string(reduced.batch) + ", L_in " + std::to_string(reduced.in_length) + "]";
      }
      r.mode = mode;
      r.problem = with_mode(reduced, mode);
      r.problem.device = CONVT1D_DEVICE_CPU;
      r.problem.algorithm = CONVT1D_ALGO_AUTO;  // the CPU has one backend; --algo picks GPU kernels
      fill_roofline(&r, 0.0);
      const convt1d_problem& p = r.problem;
      try {
        const ProblemData data = random_problem_data(p, case_seed(opts.seed, bc.id));
        const std::vector<Position> positions = sample_positions(p, 1024, case_seed(opts.seed, bc.id) + 1);
        const std::vector<double> ref = reference_at(p, data.x.values.data(), data.w.values.data(),
                                                     p.has_bias ? data.bias.values.data() : nullptr, positions);
        std::vector<unsigned char> y(static_cast<std::size_t>(detail::shape_of(p).y_elements()) *
                                     detail::dtype_size(p.dtype));
        const void* bias = p.has_bias ? data.bias.data() : nullptr;
        auto run = [&] { convt1d::check(convt1d_forward(&p, data.x.data(), data.w.data(), bias, y.data(), nullptr)); };
        std::memset(y.data(), 0xFF, y.size());  // NaN everywhere: unwritten outputs cannot pass
        run();
        r.ours.check = compare_to_reference(positions, gather_typed(p, y.data(), positions), ref, mode_tolerance(mode));
        if (!r.ours.check.ok) {
          r.ours.status = Timing::Status::Fail;
        } else {
          for (int i = 0; i < warmup; ++i) run();
          std::vector<double> ms;
          for (int i = 0; i < repeats; ++i) {
            const auto t0 = std::chrono::steady_clock::now();
            run();
            ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
          }
          r.ours.ms = summarize(ms);
          r.ours.status = Timing::Status::Ok;
        }
      } catch (const convt1d::Error& e) {
        r.ours.status = e.status() == CONVT1D_UNSUPPORTED ? Timing::Status::Unsupported : Timing::Status::Error;
        r.ours.detail = e.what();
      } catch (const std::exception& e) {
        r.ours.status = Timing::Status::Error;
        r.ours.detail = e.what();
      }
      print_case_line(stdout, r);
      std::fflush(stdout);
      report->cases.push_back(r);
    }
  }
}

}  // namespace convt1d::bench
