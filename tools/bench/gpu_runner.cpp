#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "bench/check_result.hpp"
#include "bench/gpu_timer.hpp"
#include "bench/host_data.hpp"
#include "bench/roofline_probe.hpp"
#include "bench/runners.hpp"
#include "convt1d/convt1d.hpp"
#include "gpu_buffer.hpp"
#include "numeric.hpp"
#include "problem.hpp"

#if CONVT1D_WITH_CUDNN
#include "bench/cudnn_baseline.hpp"
#endif

namespace convt1d::bench {

namespace {

constexpr int kRandomSamples = 4096;

// The device copies of one case's data and two outputs (ours, cuDNN's).
struct DeviceData {
  tools::GpuBuffer x, w, bias, y, y_ref;
  explicit DeviceData(const ProblemData& d, std::size_t y_bytes, bool baseline)
      : x(d.x.size_bytes()), w(d.w.size_bytes()), bias(d.bias.size_bytes()), y(y_bytes),
        y_ref(baseline ? y_bytes : 0) {
    x.upload(d.x.data(), d.x.size_bytes());
    w.upload(d.w.data(), d.w.size_bytes());
    if (d.bias.count) bias.upload(d.bias.data(), d.bias.size_bytes());
  }
};

// Only the sampled elements come back: the full output of large cases is gigabytes.
std::vector<double> download_at(const convt1d_problem& p, const void* y, const std::vector<Position>& positions) {
  const int64_t l_out = detail::output_length_unchecked(p);
  const std::size_t e = detail::dtype_size(p.dtype);
  std::vector<unsigned char> one(positions.size() * e);
  for (std::size_t i = 0; i < positions.size(); ++i) {
    const Position& q = positions[i];
    const int64_t index = (q.b * p.out_channels + q.co) * l_out + q.t;
    cuda_ok(cudaMemcpy(one.data() + i * e, static_cast<const char*>(y) + index * e, e, cudaMemcpyDeviceToHost),
            "download of sampled outputs");
  }
  std::vector<double> got(positions.size());
  for (std::size_t i = 0; i < positions.size(); ++i) got[i] = detail::load_as_double(p.dtype, one.data(), i);
  return got;
}

double relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
  double d2 = 0, b2 = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    d2 += (a[i] - b[i]) * (a[i] - b[i]);
    b2 += b[i] * b[i];
  }
  return b2 > 0 ? std::sqrt(d2 / b2) : 0.0;
}

// Poison, run once, check, and only then time: a wrong or failing implementation gets no time.
void check_then_time(Timing* t, const std::function<void()>& launch, tools::GpuBuffer& y, const convt1d_problem& p,
                     const std::vector<Position>& positions, const std::vector<double>& ref, double tolerance,
                     const BenchOptions& opts, L2Flusher* flusher, std::vector<double>* got_out) {
  y.fill_bytes(0xFF);  // every fp32/fp16/bf16 element becomes NaN: unwritten outputs cannot pass
  launch();
  tools::gpu_synchronize();
  const std::vector<double> got = download_at(p, y.get(), positions);
  t->check = compare_to_reference(positions, got, ref, tolerance);
  if (got_out) *got_out = got;
  if (!t->check.ok) {
    t->status = Timing::Status::Fail;
    return;
  }
  t->ms = time_on_gpu(launch, opts.warmup, opts.repeats, flusher);
  t->status = Timing::Status::Ok;
}

void record_error(Timing* t, const std::exception& e) {
  cudaGetLastError();  // clear a non-sticky error so the next case starts clean
  t->status = Timing::Status::Error;
  t->detail = e.what();
}

}  // namespace

void run_gpu_bench(const BenchOptions& opts, const std::vector<BenchCase>& cases, BenchReport* report) {
  const DeviceCeilings dev = probe_device(!opts.no_roofline);
  report->backend = "cuda";
  report->device_name = dev.name;
  report->sm_count = dev.sm_count;
  report->l2_bytes = dev.l2_bytes;
  report->copy_gbps = dev.copy_gbps;
  for (int i = 0; i < 4; ++i) report->gemm_tflops[i] = dev.gemm_tflops[i];
  for (const std::string& n : dev.notes) report->notes.push_back(n);
#if CONVT1D_WITH_CUDNN
  const bool baseline = !opts.no_baseline;
  report->cudnn_available = baseline;
  report->cudnn = baseline ? "cuDNN " + CudnnBaseline::version() + " (built against " CONVT1D_CUDNN_BUILD_VERSION ")"
                           : "skipped (--no-baseline)";
#else
  const bool baseline = false;
  report->cudnn = "not built: cuDNN was not found at configure time (CONVT1D_WITH_CUDNN=0)";
#endif
  std::printf("device: %s, %d SMs, L2 %.0f MiB\n", dev.name.c_str(), dev.sm_count, dev.l2_bytes / 1048576.0);
  if (dev.copy_gbps > 0) {
    std::printf("copy bandwidth %.0f GB/s; cuBLAS GEMM TFLOP/s: tf32 %.1f, fp32 %.1f, fp16 %.1f, bf16 %.1f\n",
                dev.copy_gbps, dev.gemm_tflops[0], dev.gemm_tflops[1], dev.gemm_tflops[2], dev.gemm_tflops[3]);
  }
  for (const std::string& n : report->notes) std::printf("note: %s\n", n.c_str());
  std::printf("baseline: %s\n", report->cudnn.c_str());
  std::fflush(stdout);

  L2Flusher flusher(static_cast<std::size_t>(dev.l2_bytes));
  const std::size_t total = cases.size() * opts.modes.size();
  std::size_t done = 0;
  for (const BenchCase& bc : cases) {
    for (Mode mode : opts.modes) {
      std::fprintf(stderr, "[%zu/%zu] %s %s ...\n", ++done, total, bc.id.c_str(), mode_name(mode));
      CaseResult r;
      r.id = bc.id;
      r.model = bc.model;
      r.mode = mode;
      r.problem = with_mode(bc.problem, mode);
      r.problem.device = CONVT1D_DEVICE_CUDA;
      r.problem.algorithm = opts.algorithm;
      fill_roofline(&r, report->copy_gbps);
      const convt1d_problem& p = r.problem;
      try {
        const ProblemData data = random_problem_data(p, case_seed(opts.seed, bc.id));
        const std::vector<Position> positions = sample_positions(p, kRandomSamples, case_seed(opts.seed, bc.id) + 1);
        const std::vector<double> ref = reference_at(p, data.x.values.data(), data.w.values.data(),
                                                     p.has_bias ? data.bias.values.data() : nullptr, positions);
        const std::size_t y_bytes = static_cast<std::size_t>(detail::shape_of(p).y_elements()) * detail::dtype_size(p.dtype);
        DeviceData dd(data, y_bytes, baseline);
        const void* bias = p.has_bias ? dd.bias.get() : nullptr;
        std::vector<double> ours_got;
        try {
          // --packed-weights: packed once here, outside the timing, as a caller with unchanging weights would.
          const convt1d_packed_layout layout =
              opts.packed_weights ? packed_weight_layout(Problem(p)) : convt1d_packed_layout{};
          tools::GpuBuffer packed(layout.bytes);
          if (opts.packed_weights) pack_weight(Problem(p), dd.w.get(), packed.get(), layout);
          auto ours = [&] {
            const convt1d_status st =
                opts.packed_weights
                    ? convt1d_forward_packed(&p, dd.x.get(), dd.w.get(), packed.get(), &layout, bias, dd.y.get(), nullptr)
                    : convt1d_forward(&p, dd.x.get(), dd.w.get(), bias, dd.y.get(), nullptr);
            if (st != CONVT1D_OK) throw convt1d::Error(st, convt1d_last_error());
          };
          check_then_time(&r.ours, ours, dd.y, p, positions, ref, mode_tolerance(mode), opts, &flusher, &ours_got);
        } catch (const convt1d::Error& e) {
          r.ours.status = e.status() == CONVT1D_UNSUPPORTED ? Timing::Status::Unsupported : Timing::Status::Error;
          r.ours.detail = e.what();
        } catch (const std::exception& e) {
          record_error(&r.ours, e);
        }
#if CONVT1D_WITH_CUDNN
        if (baseline) {
          std::unique_ptr<CudnnBaseline> cudnn;
          try {
            cudnn.reset(new CudnnBaseline(p));
          } catch (const std::exception& e) {
            record_error(&r.cudnn_heuristic, e);
            record_error(&r.cudnn_best, e);
          }
          Timing* slots[2] = {&r.cudnn_heuristic, &r.cudnn_best};
          for (int which = 0; cudnn && which < 2; ++which) {
            try {
              const CudnnChoice choice = which == 0 ? cudnn->heuristic() : cudnn->fastest(dd.x.get(), dd.w.get(), dd.y_ref.get());
              slots[which]->detail = choice.name;
              std::vector<double> got;
              check_then_time(slots[which], [&] { cudnn->run(choice, dd.x.get(), dd.w.get(), bias, dd.y_ref.get()); },
                              dd.y_ref, p, positions, ref, mode_tolerance(mode), opts, &flusher, &got);
              if (which == 0 && !ours_got.empty()) r.ours_vs_cudnn_rel = relative_difference(ours_got, got);
            } catch (const std::exception& e) {
              record_error(slots[which], e);
            }
          }
        }
#endif
      } catch (const std::exception& e) {
        record_error(&r.ours, e);
      }
      print_case_line(stdout, r);
      std::fflush(stdout);
      report->cases.push_back(r);
    }
  }
}

}  // namespace convt1d::bench
