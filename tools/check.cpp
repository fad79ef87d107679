// `convt1d check`: random problems through every backend and precision mode, each compared with the
// fp64 reference computed on the same dtype-rounded inputs (a third of them on inputs of one sign).
// Outputs are poisoned (NaN) before every run, so an element a kernel forgot to write fails the check.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "commands.hpp"
#include "convt1d/convt1d.h"
#include "cpu/reference.hpp"
#include "whole_number.hpp"
#include "gpu_buffer.hpp"
#include "numeric.hpp"
#include "problem.hpp"

namespace convt1d::cli {

namespace {

using detail::dtype_size;
using detail::load_as_double;
using detail::store_from_double;

struct Mode {
  const char* name;
  int32_t dtype, math;
  double tolerance;  // relative L2 error against the fp64 reference
};

// Bars by the format's rounding: fp64 and IEEE fp32 carry their full precision, tf32 and fp16 keep 10
// mantissa bits (u = 4.9e-4), bf16 keeps 7 (u = 3.9e-3).
const Mode kModes[] = {
    {"fp64", CONVT1D_FLOAT64, CONVT1D_MATH_IEEE, 1e-12}, {"fp32-ieee", CONVT1D_FLOAT32, CONVT1D_MATH_IEEE, 1e-5},
    {"fp32-tf32", CONVT1D_FLOAT32, CONVT1D_MATH_TF32, 5e-3}, {"fp16", CONVT1D_FLOAT16, CONVT1D_MATH_TF32, 5e-3},
    {"bf16", CONVT1D_BFLOAT16, CONVT1D_MATH_TF32, 3e-2},
};

struct Backend {
  const char* name;
  int32_t device, algorithm;
};
const Backend kBackends[] = {
    {"cpu", CONVT1D_DEVICE_CPU, CONVT1D_ALGO_AUTO},
    {"cuda-auto", CONVT1D_DEVICE_CUDA, CONVT1D_ALGO_AUTO},
    {"cuda-direct", CONVT1D_DEVICE_CUDA, CONVT1D_ALGO_DIRECT},
    {"cuda-implicit-gemm", CONVT1D_DEVICE_CUDA, CONVT1D_ALGO_IMPLICIT_GEMM},
    {"cuda-wgmma", CONVT1D_DEVICE_CUDA, CONVT1D_ALGO_WGMMA},
    {"cuda-wgmma-stream", CONVT1D_DEVICE_CUDA, CONVT1D_ALGO_WGMMA_STREAM},
    {"cuda-narrow", CONVT1D_DEVICE_CUDA, CONVT1D_ALGO_NARROW},
};

struct Tally {
  int ran = 0, unsupported = 0, failed = 0;
  double worst = 0.0;
};

constexpr int64_t kMaxCount = 1000000;  // random problems per run

struct Options {
  int count = 120;
  uint64_t seed = 1;
  bool cpu = true, cuda = true, verbose = false;
  int64_t max_work = 4'000'000;  // multiply-adds per problem, keeps the fp64 reference quick
};

int64_t pick(std::mt19937_64& rng, int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }

// A random valid problem covering every parameter; mostly small strides and kernels, sometimes extreme.
convt1d_problem random_problem(std::mt19937_64& rng, int64_t max_work) {
  for (;;) {
    const bool depthwise = pick(rng, 0, 9) == 0;
    const int64_t groups = depthwise ? pick(rng, 1, 8) : (pick(rng, 0, 3) == 0 ? pick(rng, 2, 4) : 1);
    const int64_t cin_g = depthwise ? 1 : pick(rng, 1, 48), cout_g = depthwise ? 1 : pick(rng, 1, 80);
    const int64_t K = pick(rng, 0, 5) == 0 ? pick(rng, 1, 32) : pick(rng, 1, 9);
    const int64_t stride = pick(rng, 0, 5) == 0 ? pick(rng, 1, 16) : pick(rng, 1, 4);
    const int64_t dilation = pick(rng, 0, 2) == 0 ? pick(rng, 2, 5) : 1;
    convt1d_problem p = convt1d_problem_init(pick(rng, 0, 3), cin_g * groups, cout_g * groups, pick(rng, 1, 300), K);
    p.stride = stride;
    p.dilation = dilation;
    p.groups = groups;
    p.padding = pick(rng, 0, dilation * (K - 1) / 2 + 1);
    p.output_padding = pick(rng, 0, std::max(stride, dilation) - 1);
    p.has_bias = static_cast<int32_t>(pick(rng, 0, 1));
    int64_t out_length = 0;
    if (convt1d_output_length(&p, &out_length) != CONVT1D_OK) continue;
    if (p.batch * p.out_channels * out_length * cin_g * K > max_work) continue;
    return p;
  }
}

std::string describe(const convt1d_problem& p) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "B%lld Cin%lld Cout%lld L%lld K%lld s%lld p%lld op%lld d%lld g%lld bias%d",
                (long long)p.batch, (long long)p.in_channels, (long long)p.out_channels, (long long)p.in_length,
                (long long)p.kernel_size, (long long)p.stride, (long long)p.padding, (long long)p.output_padding,
                (long long)p.dilation, (long long)p.groups, p.has_bias);
  return buf;
}

// Typed copy of `values` in `dtype`, and `values` replaced by what the dtype actually holds.
std::vector<unsigned char> to_dtype(std::vector<double>& values, int32_t dtype) {
  std::vector<unsigned char> bytes(values.size() * dtype_size(dtype));
  for (size_t i = 0; i < values.size(); ++i) {
    store_from_double(dtype, bytes.data(), static_cast<int64_t>(i), values[i]);
    values[i] = load_as_double(dtype, bytes.data(), static_cast<int64_t>(i));
  }
  return bytes;
}

// Relative L2 error; NaN (an unwritten or broken element) makes it infinite.
double relative_error(const std::vector<unsigned char>& y, int32_t dtype, const std::vector<double>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double v = load_as_double(dtype, y.data(), static_cast<int64_t>(i));
    if (!std::isfinite(v)) return INFINITY;
    num += (v - ref[i]) * (v - ref[i]);
    den += ref[i] * ref[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

// Runs one (problem, mode, backend); returns the relative error, or -1 when the backend cannot run it.
double run_one(convt1d_problem p, const Backend& be, const std::vector<unsigned char>& x,
               const std::vector<unsigned char>& w, const std::vector<unsigned char>& b, size_t y_bytes,
               std::vector<unsigned char>& y) {
  p.device = be.device;
  p.algorithm = be.algorithm;
  y.assign(y_bytes, 0xFF);  // NaN in every float format
  convt1d_status st;
  if (be.device == CONVT1D_DEVICE_CPU) {
    st = convt1d_forward(&p, x.data(), w.data(), p.has_bias ? b.data() : nullptr, y.data(), nullptr);
  } else {
    tools::GpuBuffer dx(x.size()), dw(w.size()), db(b.size()), dy(y_bytes);
    dx.upload(x.data(), x.size());
    dw.upload(w.data(), w.size());
    db.upload(b.data(), b.size());
    dy.fill_bytes(0xFF);
    st = convt1d_forward(&p, dx.get(), dw.get(), p.has_bias ? db.get() : nullptr, dy.get(), nullptr);
    if (st == CONVT1D_OK) {
      tools::gpu_synchronize();
      dy.download(y.data(), y_bytes);
    }
  }
  if (st == CONVT1D_UNSUPPORTED && be.algorithm != CONVT1D_ALGO_AUTO) return -1;
  if (st != CONVT1D_OK) {
    std::fprintf(stderr, "  %s: %s\n", be.name, convt1d_last_error());
    return INFINITY;
  }
  return 0;
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "convt1d check: %s needs a value\n", name);
        return nullptr;
      }
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      std::printf("usage: convt1d check [--count N] [--seed S] [--device cpu|cuda|all] [-v]\n"
                  "  random problems (every parameter) through cpu, cuda-auto, cuda-direct and cuda-implicit-gemm\n"
                  "  in fp64, fp32-ieee, fp32-tf32, fp16 and bf16, against the fp64 reference; exit 1 on any failure\n");
      std::exit(0);
    } else if (a == "--count") {
      const char* v = value("--count");
      int64_t count = 0;
      if (!v) return false;
      if (!convt1d::detail::parse_whole_number(v, 1, kMaxCount, &count))
        return std::fprintf(stderr, "convt1d check: --count must be a whole number from 1 to %lld, got '%s'\n",
                            static_cast<long long>(kMaxCount), v),
               false;
      o.count = static_cast<int>(count);
    } else if (a == "--seed") {
      const char* v = value("--seed");
      int64_t seed = 0;
      if (!v) return false;
      if (!convt1d::detail::parse_whole_number(v, 0, std::numeric_limits<int64_t>::max(), &seed))
        return std::fprintf(stderr, "convt1d check: --seed must be a whole number >= 0, got '%s'\n", v), false;
      o.seed = static_cast<uint64_t>(seed);
    } else if (a == "--device") {
      const char* v = value("--device");
      if (!v) return false;
      const std::string d = v;
      if (d != "cpu" && d != "cuda" && d != "all")
        return std::fprintf(stderr, "convt1d check: --device must be cpu, cuda or all, got '%s'\n", v), false;
      o.cpu = d != "cuda";
      o.cuda = d != "cpu";
    } else if (a == "-v" || a == "--verbose") {
      o.verbose = true;
    } else {
      std::fprintf(stderr, "convt1d check: unknown option '%s' (see -h)\n", a.c_str());
      return false;
    }
  }
  return true;
}

}  // namespace

int run_check(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) return 2;
  if (o.cuda && convt1d_cuda_device_count() == 0) {
    std::printf("no CUDA device: checking the CPU backend only\n");
    o.cuda = false;
  }
  constexpr size_t kModeCount = sizeof(kModes) / sizeof(kModes[0]);
  constexpr size_t kBackendCount = sizeof(kBackends) / sizeof(kBackends[0]);
  Tally tally[kBackendCount][kModeCount];
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> uni(-1.0, 1.0), positive(0.0, 1.0);
  std::vector<unsigned char> y;
  for (int n = 0; n < o.count; ++n) {
    const convt1d_problem shape = random_problem(rng, o.max_work);
    int64_t out_length = 0;
    convt1d_output_length(&shape, &out_length);
    const detail::Shape s = detail::shape_of(shape);
    std::vector<double> x0(static_cast<size_t>(s.x_elements())), w0(static_cast<size_t>(s.w_elements())),
        b0(static_cast<size_t>(s.out_channels));
    // Every third problem on inputs of one sign, where rounding that always truncates (the tensor
    // cores' fp32 sums) adds up instead of cancelling.
    const bool one_signed = n % 3 == 2;
    for (auto* v : {&x0, &w0, &b0})
      for (auto& e : *v) e = one_signed ? positive(rng) : uni(rng);
    if (o.verbose) std::printf("[%d] %s%s\n", n, describe(shape).c_str(), one_signed ? " (inputs in (0, 1))" : "");
    for (size_t m = 0; m < kModeCount; ++m) {
      convt1d_problem p = shape;
      p.dtype = kModes[m].dtype;
      p.math = kModes[m].math;
      std::vector<double> x = x0, w = w0, b = b0;
      const auto xb = to_dtype(x, p.dtype), wb = to_dtype(w, p.dtype), bb = to_dtype(b, p.dtype);
      std::vector<double> ref(static_cast<size_t>(s.y_elements()));
      detail::reference_forward(p, x.data(), w.data(), b.data(), ref.data());
      const size_t y_bytes = ref.size() * dtype_size(p.dtype);
      for (size_t k = 0; k < kBackendCount; ++k) {
        const Backend& be = kBackends[k];
        if ((be.device == CONVT1D_DEVICE_CPU && !o.cpu) || (be.device == CONVT1D_DEVICE_CUDA && !o.cuda)) continue;
        Tally& t = tally[k][m];
        double err = run_one(p, be, xb, wb, bb, y_bytes, y);
        if (err < 0) {
          ++t.unsupported;
          continue;
        }
        if (err == 0) err = relative_error(y, p.dtype, ref);
        ++t.ran;
        if (err > t.worst) t.worst = err;
        if (!(err <= kModes[m].tolerance)) {
          ++t.failed;
          std::printf("FAIL %s %s: %s  rel.err %.3g > %.1g\n", be.name, kModes[m].name, describe(p).c_str(), err,
                      kModes[m].tolerance);
        }
      }
    }
  }
  int failures = 0;
  std::printf("\n%-20s %-10s %6s %6s %6s %12s %9s\n", "backend", "mode", "ran", "n/a", "failed", "worst err", "bar");
  for (size_t k = 0; k < kBackendCount; ++k)
    for (size_t m = 0; m < kModeCount; ++m) {
      const Tally& t = tally[k][m];
      if (t.ran + t.unsupported == 0) continue;
      failures += t.failed;
      std::printf("%-20s %-10s %6d %6d %6d %12.3g %9.1g\n", kBackends[k].name, kModes[m].name, t.ran, t.unsupported,
                  t.failed, t.worst, kModes[m].tolerance);
    }
  std::printf("%s: %d problems, %d failures (seed %llu)\n", failures ? "FAILED" : "OK", o.count, failures,
              (unsigned long long)o.seed);
  return failures ? 1 : 0;
}

}  // namespace convt1d::cli
