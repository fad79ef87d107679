// The benchmark harness's host-side pieces: suite CSV parsing, option and mode parsing, roofline
// arithmetic, the correctness gate (a wrong output must FAIL), reports, ncu CSV parsing, and an
// end-to-end `convt1d bench` run (CPU backend here; the GPU path where a device exists).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "bench/check_result.hpp"
#include "bench/host_data.hpp"
#include "bench/metrics.hpp"
#include "bench/modes.hpp"
#include "bench/ncu_csv.hpp"
#include "bench/options.hpp"
#include "bench/report.hpp"
#include "bench/runners.hpp"
#include "bench/suite.hpp"
#include "bench/tune_rule.hpp"
#include "commands.hpp"
#include "cpu/reference.hpp"
#include "numeric.hpp"
#include "problem.hpp"
#include "tune_table.hpp"

using namespace convt1d::bench;

namespace {

SuiteParse parse(const std::string& text) {
  std::istringstream in(text);
  return parse_suite(in, "t.csv");
}

// argv from a list of strings (storage lives in the vector).
struct Args {
  std::vector<std::string> s;
  std::vector<char*> v;
  explicit Args(std::vector<std::string> a) : s(std::move(a)) {
    for (auto& x : s) v.push_back(x.data());
  }
  int argc() const { return static_cast<int>(v.size()); }
  char** argv() { return v.data(); }
};

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

}  // namespace

// ---------------------------------------------------------------- suite CSV

TEST(BenchSuite, ParsesGoodRowsSkippingCommentsHeaderAndBlankLines) {
  const SuiteParse s = parse(
      "# comment line\n"
      "id,model,B,C_in,C_out,K,stride,padding,output_padding,dilation,groups,L_in,bias\n"
      "\n"
      "A1,\"Model, with comma\",2,8,4,5,2,1,1,1,1,100,1\n"
      "  # indented comment\n"
      "A2,depthwise,1,16,16,4,2,0,0,1,16,13,0\n");
  ASSERT_TRUE(s.ok()) << s.errors[0];
  ASSERT_EQ(s.cases.size(), 2u);
  EXPECT_EQ(s.cases[0].id, "A1");
  EXPECT_EQ(s.cases[0].model, "Model, with comma");
  const convt1d_problem& p = s.cases[0].problem;
  EXPECT_EQ(p.batch, 2);
  EXPECT_EQ(p.in_channels, 8);
  EXPECT_EQ(p.out_channels, 4);
  EXPECT_EQ(p.kernel_size, 5);
  EXPECT_EQ(p.stride, 2);
  EXPECT_EQ(p.padding, 1);
  EXPECT_EQ(p.output_padding, 1);
  EXPECT_EQ(p.in_length, 100);
  EXPECT_EQ(p.has_bias, 1);
  EXPECT_EQ(s.cases[1].problem.groups, 16);
  EXPECT_EQ(s.cases[1].problem.has_bias, 0);
}

TEST(BenchSuite, BadRowsAreReportedWithLineNumbersAndNeverUsed) {
  const SuiteParse s = parse(
      "id,model,B,C_in,C_out,K,stride,padding,output_padding,dilation,groups,L_in,bias\n"  // 1
      "G1,good,1,4,4,3,1,0,0,1,1,10,0\n"                                                  // 2
      "B1,too few,1,4,4\n"                                                               // 3
      "B2,not int,1,4,x4,3,1,0,0,1,1,10,0\n"                                             // 4
      "B3,bad groups,1,6,4,3,1,0,0,1,4,10,0\n"                                           // 5
      "B4,bias 2,1,4,4,3,1,0,0,1,1,10,2\n"                                               // 6
      "G1,duplicate,1,4,4,3,1,0,0,1,1,10,0\n"                                            // 7
      "B5,op too big,1,4,4,3,2,0,2,1,1,10,0\n");                                         // 8
  EXPECT_FALSE(s.ok());
  ASSERT_EQ(s.cases.size(), 1u);
  EXPECT_EQ(s.cases[0].model, "good");
  ASSERT_EQ(s.errors.size(), 6u);
  EXPECT_TRUE(contains(s.errors[0], "t.csv:3:")) << s.errors[0];
  EXPECT_TRUE(contains(s.errors[0], "expected 13 columns")) << s.errors[0];
  EXPECT_TRUE(contains(s.errors[1], "t.csv:4:")) << s.errors[1];
  EXPECT_TRUE(contains(s.errors[1], "C_out")) << s.errors[1];
  EXPECT_TRUE(contains(s.errors[2], "t.csv:5:")) << s.errors[2];
  EXPECT_TRUE(contains(s.errors[2], "groups")) << s.errors[2];
  EXPECT_TRUE(contains(s.errors[3], "t.csv:6:")) << s.errors[3];
  EXPECT_TRUE(contains(s.errors[4], "t.csv:7:")) << s.errors[4];
  EXPECT_TRUE(contains(s.errors[4], "duplicate")) << s.errors[4];
  EXPECT_TRUE(contains(s.errors[5], "t.csv:8:")) << s.errors[5];
  EXPECT_TRUE(contains(s.errors[5], "output_padding")) << s.errors[5];
}

TEST(BenchSuite, SelectsIdsInOrderAndNamesUnknownOnes) {
  const SuiteParse s = parse("A,a,1,4,4,3,1,0,0,1,1,10,0\nB,b,1,4,4,3,1,0,0,1,1,10,0\nC,c,1,4,4,3,1,0,0,1,1,10,0\n");
  ASSERT_TRUE(s.ok());
  std::vector<BenchCase> sel;
  std::string error;
  ASSERT_TRUE(select_cases(s.cases, split_ids({"C,A", "B"}), &sel, &error));
  ASSERT_EQ(sel.size(), 3u);
  EXPECT_EQ(sel[0].id, "C");
  EXPECT_EQ(sel[1].id, "A");
  EXPECT_EQ(sel[2].id, "B");
  EXPECT_FALSE(select_cases(s.cases, {"A", "NOPE", "ZZ"}, &sel, &error));
  EXPECT_TRUE(contains(error, "NOPE")) << error;
  EXPECT_TRUE(contains(error, "ZZ")) << error;
}

TEST(BenchSuite, TheRealSuiteFileParsesAndHoldsTheHeadline) {
  const SuiteParse s = load_suite(default_suite_path());
  ASSERT_TRUE(s.ok()) << (s.errors.empty() ? "" : s.errors[0]);
  ASSERT_GE(s.cases.size(), 20u);
  const BenchCase h = headline_case();
  bool found = false;
  for (const BenchCase& c : s.cases) {
    if (c.id != h.id) continue;
    found = true;
    EXPECT_EQ(c.problem.batch, h.problem.batch);
    EXPECT_EQ(c.problem.in_length, h.problem.in_length);
    EXPECT_EQ(c.problem.dilation, h.problem.dilation);
    EXPECT_EQ(c.problem.kernel_size, h.problem.kernel_size);
  }
  EXPECT_TRUE(found);
  EXPECT_FALSE(load_suite("/nonexistent/suite.csv").ok());
}

// ---------------------------------------------------------------- modes and options

TEST(BenchModes, ParsesNamesListsAndAll) {
  std::vector<Mode> m;
  std::string error;
  ASSERT_TRUE(parse_modes("tf32", &m, &error));
  EXPECT_EQ(m, std::vector<Mode>{Mode::TF32});
  ASSERT_TRUE(parse_modes("bf16,ieee,bf16", &m, &error));
  EXPECT_EQ(m, (std::vector<Mode>{Mode::BF16, Mode::IEEE}));
  ASSERT_TRUE(parse_modes("all", &m, &error));
  EXPECT_EQ(m.size(), 4u);
  ASSERT_TRUE(parse_modes("fp32-ieee", &m, &error));
  EXPECT_EQ(m, std::vector<Mode>{Mode::IEEE});
  EXPECT_FALSE(parse_modes("fp8", &m, &error));
  EXPECT_TRUE(contains(error, "fp8")) << error;
  EXPECT_FALSE(parse_modes("", &m, &error));

  const convt1d_problem base = convt1d_problem_init(1, 2, 3, 4, 5);
  EXPECT_EQ(with_mode(base, Mode::IEEE).math, CONVT1D_MATH_IEEE);
  EXPECT_EQ(with_mode(base, Mode::TF32).math, CONVT1D_MATH_TF32);
  EXPECT_EQ(with_mode(base, Mode::FP16).dtype, CONVT1D_FLOAT16);
  EXPECT_EQ(with_mode(base, Mode::BF16).dtype, CONVT1D_BFLOAT16);
  EXPECT_LT(mode_tolerance(Mode::IEEE), mode_tolerance(Mode::TF32));
  EXPECT_LT(mode_tolerance(Mode::FP16), mode_tolerance(Mode::BF16));
}

TEST(BenchOptions, DefaultsAndEveryOption) {
  BenchOptions o;
  std::string error;
  Args none({});
  ASSERT_TRUE(parse_bench_options(none.argc(), none.argv(), &o, &error)) << error;
  EXPECT_FALSE(o.use_suite);
  EXPECT_EQ(o.modes.size(), 4u);
  EXPECT_EQ(o.repeats, 50);
  EXPECT_EQ(o.algorithm, CONVT1D_ALGO_AUTO);

  Args a({"--suite", "--case", "S1,S2", "--case=S3", "--mode", "fp16,bf16", "--json", "o.json", "--repeats", "60",
          "--warmup=3", "--algo", "implicit_gemm", "--no-baseline"});
  ASSERT_TRUE(parse_bench_options(a.argc(), a.argv(), &o, &error)) << error;
  EXPECT_TRUE(o.use_suite);
  EXPECT_EQ(o.suite_path, "");  // "--suite" alone: the default file
  EXPECT_EQ(o.case_ids, (std::vector<std::string>{"S1", "S2", "S3"}));
  EXPECT_EQ(o.modes, (std::vector<Mode>{Mode::FP16, Mode::BF16}));
  EXPECT_EQ(o.json_path, "o.json");
  EXPECT_EQ(o.repeats, 60);
  EXPECT_EQ(o.warmup, 3);
  EXPECT_EQ(o.algorithm, CONVT1D_ALGO_IMPLICIT_GEMM);
  EXPECT_TRUE(o.no_baseline);

  Args b({"--suite", "my.csv"});
  ASSERT_TRUE(parse_bench_options(b.argc(), b.argv(), &o, &error));
  EXPECT_EQ(o.suite_path, "my.csv");
}

TEST(BenchOptions, RejectsBadValuesNamingTheOption) {
  const std::vector<std::vector<std::string>> bad = {
      {"--repeats", "10"}, {"--repeats", "abc"}, {"--mode", "fp64"}, {"--algo", "fft"},
      {"--warmup", "-1"},  {"--json"},           {"--bogus"},         {"--case", ","},
      {"--warmup", " 3"},  {"--seed", "+5"},     {"--repeats", "60x"}, {"--repeats", "99999999999999999999"}};
  const std::vector<std::string> names = {"--repeats", "--repeats", "--mode",  "--algo",   "--warmup",  "--json",
                                          "--bogus",   "--case",    "--warmup", "--seed", "--repeats", "--repeats"};
  for (std::size_t i = 0; i < bad.size(); ++i) {
    BenchOptions o;
    std::string error;
    Args a(bad[i]);
    EXPECT_FALSE(parse_bench_options(a.argc(), a.argv(), &o, &error)) << bad[i][0];
    EXPECT_TRUE(contains(error, names[i])) << error;
  }
  BenchOptions o;
  std::string error;
  Args quick({"--quick", "--repeats", "1"});
  ASSERT_TRUE(parse_bench_options(quick.argc(), quick.argv(), &o, &error)) << error;
  EXPECT_EQ(o.repeats, 1);
}

TEST(BenchOptions, ResolvesHeadlineSuiteAndCases) {
  std::vector<BenchCase> cases;
  std::string error;
  BenchOptions o;
  ASSERT_TRUE(resolve_cases(o, &cases, &error));
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(cases[0].id, "KB74");
  o.case_ids = {"S3", "KB74"};
  ASSERT_TRUE(resolve_cases(o, &cases, &error)) << error;
  ASSERT_EQ(cases.size(), 2u);
  EXPECT_EQ(cases[0].id, "S3");
  o.case_ids = {"NOT_A_CASE"};
  EXPECT_FALSE(resolve_cases(o, &cases, &error));
  EXPECT_TRUE(contains(error, "NOT_A_CASE")) << error;
}

// ---------------------------------------------------------------- roofline arithmetic

TEST(BenchMetrics, HeadlineBytesFlopsFloorAndPercent) {
  const convt1d_problem p = headline_case().problem;  // fp32
  const Traffic t = traffic_of(p, 4);
  const double l_out = 131072 + 3 * 4;  // (L-1)*1 + 3*(5-1) + 1
  EXPECT_DOUBLE_EQ(t.x, 4.0 * 32 * 32 * 131072);
  EXPECT_DOUBLE_EQ(t.w, 4.0 * 32 * 64 * 5);
  EXPECT_DOUBLE_EQ(t.bias, 0.0);
  EXPECT_DOUBLE_EQ(t.y, 4.0 * 32 * 64 * l_out);
  EXPECT_NEAR(t.total() / 1e9, 1.61, 0.01);  // DESIGN.md: 1.61 GB
  EXPECT_DOUBLE_EQ(flops_of(p), 2.0 * 32 * 32 * 64 * 5 * 131072);
  EXPECT_NEAR(flops_of(p) / 1e9, 85.9, 0.1);

  EXPECT_DOUBLE_EQ(memory_floor_ms(3e9, 3000), 1.0);  // 3 GB at 3000 GB/s
  EXPECT_DOUBLE_EQ(percent_of_floor(0.5, 1.0), 50.0);
  EXPECT_TRUE(std::isnan(percent_of_floor(0.5, 0.0)));
  EXPECT_TRUE(std::isnan(memory_floor_ms(1e9, 0.0)));
  EXPECT_DOUBLE_EQ(gbps(2e9, 1.0), 2000.0);
  EXPECT_DOUBLE_EQ(tflops(1e12, 1000.0), 1.0);
  EXPECT_DOUBLE_EQ(arithmetic_intensity(100, 4), 25.0);
  EXPECT_DOUBLE_EQ(speedup(2.0, 0.5), 4.0);

  convt1d_problem g = convt1d_problem_init(2, 8, 6, 10, 3);
  g.groups = 2;
  g.has_bias = 1;
  const Traffic tg = traffic_of(g, 2);
  EXPECT_DOUBLE_EQ(tg.w, 2.0 * 8 * 3 * 3);
  EXPECT_DOUBLE_EQ(tg.bias, 2.0 * 6);
  EXPECT_DOUBLE_EQ(flops_of(g), 2.0 * 2 * 8 * 3 * 3 * 10);
}

TEST(BenchMetrics, StatsAndGeometricMean) {
  const Stats s = summarize({5, 1, 3, 2, 4});
  EXPECT_DOUBLE_EQ(s.median, 3);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 5);
  EXPECT_EQ(s.count, 5);
  EXPECT_DOUBLE_EQ(summarize({4, 1, 3, 2}).median, 2.5);
  EXPECT_NEAR(geometric_mean({2, 8}), 4.0, 1e-12);
  EXPECT_NEAR(geometric_mean({2, 8, NAN, -1}), 4.0, 1e-12);  // missing results are skipped
  EXPECT_TRUE(std::isnan(geometric_mean({})));
}

// ---------------------------------------------------------------- correctness gate

namespace {

struct Fixture {
  convt1d_problem p;
  ProblemData data;
  std::vector<double> y_ref;  // full fp64 reference
};

Fixture make_fixture(int32_t dtype) {
  Fixture f;
  f.p = convt1d_problem_init(2, 6, 4, 37, 5);
  f.p.stride = 3;
  f.p.padding = 2;
  f.p.output_padding = 1;
  f.p.dilation = 2;
  f.p.groups = 2;
  f.p.has_bias = 1;
  f.p.dtype = dtype;
  f.p.device = CONVT1D_DEVICE_CPU;
  f.data = random_problem_data(f.p, 7);
  const int64_t n = convt1d::detail::shape_of(f.p).y_elements();
  f.y_ref.resize(static_cast<std::size_t>(n));
  convt1d::detail::reference_forward(f.p, f.data.x.values.data(), f.data.w.values.data(), f.data.bias.values.data(),
                                     f.y_ref.data());
  return f;
}

std::vector<unsigned char> typed_copy(const Fixture& f, const std::vector<double>& v) {
  std::vector<unsigned char> out(v.size() * convt1d::detail::dtype_size(f.p.dtype));
  for (std::size_t i = 0; i < v.size(); ++i) convt1d::detail::store_from_double(f.p.dtype, out.data(), i, v[i]);
  return out;
}

CheckResult check(const Fixture& f, const std::vector<unsigned char>& y, Mode mode) {
  const std::vector<Position> pos = sample_positions(f.p, 200, 3);
  const std::vector<double> ref = reference_at(f.p, f.data.x.values.data(), f.data.w.values.data(),
                                               f.data.bias.values.data(), pos);
  return compare_to_reference(pos, gather_typed(f.p, y.data(), pos), ref, mode_tolerance(mode));
}

}  // namespace

TEST(BenchCheck, RandomDataIsDeterministicNonZeroAndExactInItsDtype) {
  const HostTensor a = random_tensor(1000, CONVT1D_BFLOAT16, 5, 1.0);
  const HostTensor b = random_tensor(1000, CONVT1D_BFLOAT16, 5, 1.0);
  EXPECT_EQ(a.bytes, b.bytes);
  int zeros = 0;
  for (int64_t i = 0; i < a.count; ++i) {
    EXPECT_EQ(a.values[i], convt1d::detail::load_as_double(CONVT1D_BFLOAT16, a.data(), i));
    EXPECT_LT(std::abs(a.values[i]), 1.0 + 1e-2);
    zeros += a.values[i] == 0.0;
  }
  EXPECT_LT(zeros, 5);
  EXPECT_NE(random_tensor(1000, CONVT1D_BFLOAT16, 6, 1.0).bytes, a.bytes);
}

TEST(BenchCheck, SamplesIncludeRowEndsAndStayInRange) {
  const Fixture f = make_fixture(CONVT1D_FLOAT32);
  const convt1d::detail::Shape s = convt1d::detail::shape_of(f.p);
  const std::vector<Position> pos = sample_positions(f.p, 100, 1);
  bool first = false, last = false;
  for (const Position& q : pos) {
    ASSERT_GE(q.b, 0);
    ASSERT_LT(q.b, s.batch);
    ASSERT_GE(q.co, 0);
    ASSERT_LT(q.co, s.out_channels);
    ASSERT_GE(q.t, 0);
    ASSERT_LT(q.t, s.out_length);
    first |= q.b == 0 && q.co == 0 && q.t == 0;
    last |= q.b == s.batch - 1 && q.co == s.out_channels - 1 && q.t == s.out_length - 1;
  }
  EXPECT_TRUE(first);
  EXPECT_TRUE(last);
}

TEST(BenchCheck, RightOutputPassesInEveryMode) {
  for (Mode m : all_modes()) {
    const Fixture f = make_fixture(mode_dtype(m));
    const CheckResult r = check(f, typed_copy(f, f.y_ref), m);
    EXPECT_TRUE(r.ok) << mode_name(m) << ": " << r.message;
    EXPECT_LT(r.rel_l2, mode_tolerance(m));
    EXPECT_GT(r.checked, 100);
  }
}

TEST(BenchCheck, WrongOutputFails) {
  const Fixture f = make_fixture(CONVT1D_FLOAT32);
  // A plausible bug: bias forgotten.
  std::vector<double> no_bias = f.y_ref;
  const int64_t l_out = convt1d::detail::shape_of(f.p).out_length;
  for (std::size_t i = 0; i < no_bias.size(); ++i) no_bias[i] -= f.data.bias.values[(i / l_out) % f.p.out_channels];
  CheckResult r = check(f, typed_copy(f, no_bias), Mode::TF32);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(contains(r.message, "relative L2 error")) << r.message;

  // A small error is fine for TF32 but not for IEEE fp32.
  std::vector<double> nudged = f.y_ref;
  for (double& v : nudged) v *= 1.0 + 1e-4;
  EXPECT_TRUE(check(f, typed_copy(f, nudged), Mode::TF32).ok);
  EXPECT_FALSE(check(f, typed_copy(f, nudged), Mode::IEEE).ok);
}

TEST(BenchCheck, PoisonedUnwrittenOutputFails) {
  const Fixture f = make_fixture(CONVT1D_FLOAT16);
  std::vector<unsigned char> y = typed_copy(f, f.y_ref);
  // The last row left as written by the 0xFF poison: a kernel that skipped it.
  const int64_t l_out = convt1d::detail::shape_of(f.p).out_length;
  std::fill(y.end() - static_cast<std::ptrdiff_t>(l_out * 2), y.end(), 0xFF);
  const CheckResult r = check(f, y, Mode::FP16);
  EXPECT_FALSE(r.ok);
  EXPECT_GT(r.non_finite, 0);
  EXPECT_TRUE(contains(r.message, "NaN")) << r.message;
}

// ---------------------------------------------------------------- reports

TEST(BenchReport, FailedCaseShowsFailNotATimeAndCountsAsFailure) {
  BenchReport rep;
  rep.copy_gbps = 3000;
  CaseResult good;
  good.id = "G";
  good.mode = Mode::FP16;
  good.problem = with_mode(headline_case().problem, Mode::FP16);
  fill_roofline(&good, rep.copy_gbps);
  good.ours.status = Timing::Status::Ok;
  good.ours.ms = summarize({0.5, 0.6, 0.4});
  good.cudnn_heuristic.status = Timing::Status::Ok;
  good.cudnn_heuristic.ms = summarize({2.0});
  CaseResult bad = good;
  bad.id = "B";
  bad.ours.status = Timing::Status::Fail;
  bad.ours.check.message = "relative L2 error 1 > tolerance";
  rep.cases = {good, bad};
  EXPECT_EQ(count_failures(rep), 1);
  EXPECT_DOUBLE_EQ(geomean_speedup(rep, Mode::FP16, false), 4.0);
  EXPECT_TRUE(std::isnan(geomean_speedup(rep, Mode::BF16, false)));

  std::FILE* tmp = std::tmpfile();
  ASSERT_NE(tmp, nullptr);
  print_case_line(tmp, bad);
  print_table(tmp, rep);
  std::rewind(tmp);
  std::string text(4096, '\0');
  text.resize(std::fread(&text[0], 1, text.size(), tmp));
  std::fclose(tmp);
  EXPECT_TRUE(contains(text, "FAIL (relative L2 error")) << text;
  EXPECT_TRUE(contains(text, "0.5000")) << text;

  const std::string json = to_json(rep);
  for (const char* key : {"\"copy_gbps\": 3000", "\"gemm_tflops\"", "\"cases\"", "\"speedup_vs_heuristic\": 4",
                          "\"status\": \"FAIL\"", "\"floor_ms\"", "\"arithmetic_intensity\"", "\"failures\": 1"}) {
    EXPECT_TRUE(contains(json, key)) << key << "\n" << json;
  }
  EXPECT_FALSE(contains(json, "nan")) << json;
}

// ---------------------------------------------------------------- ncu CSV

TEST(BenchNcu, ParsesMetricsPerKernelAndSkipsOtherLines) {
  const std::string out =
      "==PROF== Connected to process 123\n"
      "KB74   fp32-tf32 ours 0.6 ms\n"
      "\"ID\",\"Process ID\",\"Process Name\",\"Host Name\",\"Kernel Name\",\"Context\",\"Stream\",\"Block Size\","
      "\"Grid Size\",\"Device\",\"CC\",\"Section Name\",\"Metric Name\",\"Metric Unit\",\"Metric Value\"\n"
      "\"0\",\"123\",\"convt1d\",\"127.0.0.1\",\"convt1d_igemm<float>(Params)\",\"1\",\"7\",\"(384, 1, 1)\","
      "\"(132, 1, 1)\",\"0\",\"9.0\",\"Command line profiler metrics\",\"dram__throughput.avg.pct_of_peak_sustained_"
      "elapsed\",\"%\",\"87.5\"\n"
      "\"0\",\"123\",\"convt1d\",\"127.0.0.1\",\"convt1d_igemm<float>(Params)\",\"1\",\"7\",\"(384, 1, 1)\","
      "\"(132, 1, 1)\",\"0\",\"9.0\",\"Command line profiler metrics\",\"launch__grid_size\",\"\",\"132\"\n"
      "\"1\",\"123\",\"convt1d\",\"127.0.0.1\",\"convt1d_direct\",\"1\",\"7\",\"(256, 1, 1)\",\"(9, 1, 1)\",\"0\","
      "\"9.0\",\"Command line profiler metrics\",\"lts__t_sector_hit_rate.pct\",\"%\",\"1,234.5\"\n";
  const NcuParse p = parse_ncu_csv(out);
  ASSERT_TRUE(p.error.empty()) << p.error;
  ASSERT_EQ(p.kernels.size(), 2u);
  EXPECT_EQ(p.kernels[0].kernel, "convt1d_igemm<float>(Params)");
  ASSERT_EQ(p.kernels[0].metrics.size(), 2u);
  EXPECT_EQ(p.kernels[0].metrics[0].second, "87.5 %");
  EXPECT_EQ(p.kernels[0].metrics[1].second, "132");
  EXPECT_EQ(p.kernels[1].metrics[0].second, "1,234.5 %");
  EXPECT_TRUE(ncu_failure(out).empty());
}

TEST(BenchNcu, ExplainsCounterPermissionAndNoTable) {
  const std::string denied =
      "==ERROR== ERR_NVGPUCTRPERM - The user does not have permission to access NVIDIA GPU Performance Counters\n";
  EXPECT_TRUE(contains(ncu_failure(denied), "ERR_NVGPUCTRPERM"));
  EXPECT_FALSE(parse_ncu_csv(denied).error.empty());
  EXPECT_TRUE(contains(ncu_failure("==WARNING== No kernels were profiled.\n"), "no kernel"));
  EXPECT_TRUE(contains(ncu_failure("==ERROR== something broke\n"), "something broke"));
}

// `convt1d profile` filters ncu by kernel name: every __global__ kernel in src/cuda must match, or
// profiling the layers it runs reports "no kernel" (the narrow kernel once did).
TEST(BenchNcu, KernelFilterMatchesEveryKernelOfOurs) {
  const std::regex filter(std::string(kOurKernelsRegex).substr(std::string("regex:").size()));
  const std::regex declaration(R"(__global__\s+void\s+(?:__launch_bounds__\((?:[^()]|\([^()]*\))*\)\s*)?(\w+)\s*\()");
  int kernels = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(CONVT1D_SOURCE_DIR) + "/src/cuda")) {
    if (entry.path().extension() != ".cu" && entry.path().extension() != ".cuh") continue;
    std::ifstream in(entry.path());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (std::sregex_iterator m(text.begin(), text.end(), declaration), end; m != end; ++m, ++kernels) {
      const std::string name = (*m)[1];
      EXPECT_TRUE(std::regex_search(name, filter)) << name << " in " << entry.path() << " escapes " << kOurKernelsRegex;
    }
  }
  EXPECT_GE(kernels, 10) << "found too few __global__ kernels under " << CONVT1D_SOURCE_DIR << "/src/cuda";
}

// ---------------------------------------------------------------- end to end

// `convt1d tune` records a forced algorithm only where it beats AUTO by the margin in both rounds.
TEST(TuneRule, AWinMustHoldInTheFirstPassAndTheConfirmationRound) {
  EXPECT_TRUE(beats_auto(0.100, 0.096));
  EXPECT_FALSE(beats_auto(0.100, 0.0975));  // inside the margin
  EXPECT_FALSE(beats_auto(0.100, 0.120));
  EXPECT_FALSE(beats_auto(-1, 0.05));  // AUTO failed: nothing to compare with
  EXPECT_FALSE(beats_auto(0.100, -1));
  EXPECT_TRUE(tune_records(0.0112, 0.0100, 0.0111, 0.0101));
  EXPECT_FALSE(tune_records(0.0112, 0.0107, 0.0108, 0.0107));  // the first pass's gap was noise
  EXPECT_FALSE(tune_records(0.0112, 0.0100, -1, -1));          // not confirmed (not re-timed)
  EXPECT_FALSE(tune_records(0.0112, 0.0110, 0.0120, 0.0100));  // no win in the first pass
}

// `convt1d tune` end to end: bad options are refused before any timing; without a CUDA device it says so
// and writes nothing; with one it writes a table that later runs can read (its entries depend on timings).
TEST(BenchCli, TuneRefusesBadOptionsAndWritesAReadableTable) {
  Args algo({"--algo", "wgmma"});
  EXPECT_EQ(convt1d::cli::run_tune(algo.argc(), algo.argv()), 2);
  Args no_file({"--out"});
  EXPECT_EQ(convt1d::cli::run_tune(no_file.argc(), no_file.argv()), 2);
  Args bad_mode({"--mode", "fp64"});
  EXPECT_EQ(convt1d::cli::run_tune(bad_mode.argc(), bad_mode.argv()), 2);
  Args help({"-h"});
  EXPECT_EQ(convt1d::cli::run_tune(help.argc(), help.argv()), 0);

  const std::string path = ::testing::TempDir() + "bench_harness_tune.tsv";
  std::remove(path.c_str());
  Args run({"--case", "S21,X2", "--mode", "bf16", "--quick", "--repeats", "3", "--warmup", "1", "--out", path});
  if (convt1d_cuda_device_count() == 0) {
    EXPECT_EQ(convt1d::cli::run_tune(run.argc(), run.argv()), 1);
    EXPECT_FALSE(std::ifstream(path).good()) << "a table written without a device";
    return;
  }
  ASSERT_EQ(convt1d::cli::run_tune(run.argc(), run.argv()), 0);
  ASSERT_TRUE(std::ifstream(path).good());
  EXPECT_NO_THROW(convt1d::detail::load_tune_file(path, false));
  std::remove(path.c_str());
}

TEST(BenchCli, ReducesCpuProblemsWithinBudget) {
  const convt1d_problem r = reduce_for_cpu(headline_case().problem, 1e9);
  EXPECT_EQ(r.in_length, 4096);
  EXPECT_LE(flops_of(r), 1e9);
  EXPECT_EQ(convt1d_validate(&r), CONVT1D_OK);
  convt1d_problem big_k = convt1d_problem_init(16, 1000, 1, 100, 10000);
  big_k.stride = 1000;
  const convt1d_problem rk = reduce_for_cpu(big_k, 1e9);
  EXPECT_EQ(convt1d_validate(&rk), CONVT1D_OK);
  EXPECT_LE(flops_of(rk), 1e9);
}

TEST(BenchCli, RunsOneSmallCaseAndWritesJson) {
  const std::string json_path = ::testing::TempDir() + "bench_harness_test.json";
  Args a({"--case", "S21,X2", "--mode", "fp16,ieee", "--quick", "--repeats", "2", "--warmup", "1", "--no-roofline", "--json", json_path});
  EXPECT_EQ(convt1d::cli::run_bench(a.argc(), a.argv()), 0);
  std::ifstream in(json_path);
  ASSERT_TRUE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  const std::string json = text.str();
  EXPECT_TRUE(contains(json, "\"id\": \"S21\"")) << json;
  EXPECT_TRUE(contains(json, "\"mode\": \"fp32-ieee\"")) << json;
  EXPECT_TRUE(contains(json, "\"failures\": 0")) << json;
  std::remove(json_path.c_str());

  Args bad({"--mode", "fp64"});
  EXPECT_EQ(convt1d::cli::run_bench(bad.argc(), bad.argv()), 2);
  Args help({"-h"});
  EXPECT_EQ(convt1d::cli::run_bench(help.argc(), help.argv()), 0);
}
