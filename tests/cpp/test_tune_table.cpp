// The tune table (src/tune_table.hpp) on the CPU: shape classes, the file format both ways, every
// malformed field reported with its line, and CONVT1D_TUNE_FILE read, re-read and refused. On a GPU:
// a table entry changes the kernel a forward call runs (seen through its accuracy), an entry the
// kernel refuses falls back to AUTO, and a malformed table is a clear error from convt1d_forward.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "convt1d/convt1d.h"
#include "gpu_buffer.hpp"
#include "problem.hpp"
#include "tune_table.hpp"
#include "test_util.hpp"

#ifdef CONVT1D_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace {

using convt1d::detail::ApiError;
using convt1d::detail::TuneEntry;
using convt1d::detail::TuneTable;

convt1d_problem t5_like(int64_t batch, int64_t length, int32_t dtype, int32_t math) {
  convt1d_problem p = convt1d_problem_init(batch, 768, 384, length, 16);
  p.stride = 8;
  p.padding = 4;
  p.has_bias = 1;
  p.dtype = dtype;
  p.math = math;
  return p;
}

std::string temp_path(const char* name) { return ::testing::TempDir() + name; }

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// Restores CONVT1D_TUNE_FILE's absence after a test that set it.
struct TuneFileVariable {
  explicit TuneFileVariable(const std::string& path) { setenv("CONVT1D_TUNE_FILE", path.c_str(), 1); }
  ~TuneFileVariable() { unsetenv("CONVT1D_TUNE_FILE"); }
};

TEST(TuneTable, SizeClassIsTheBitWidth) {
  EXPECT_EQ(convt1d::detail::size_class(1), 1);
  EXPECT_EQ(convt1d::detail::size_class(2), 2);
  EXPECT_EQ(convt1d::detail::size_class(3), 2);
  EXPECT_EQ(convt1d::detail::size_class(4), 3);
  EXPECT_EQ(convt1d::detail::size_class(131072), 18);
  EXPECT_EQ(convt1d::detail::size_class(131071), 17);
}

TEST(TuneTable, KeyClassesBatchAndLengthAndIgnoresMathOutsideFp32) {
  const TuneEntry a = convt1d::detail::tune_key(t5_like(16, 264, CONVT1D_BFLOAT16, CONVT1D_MATH_TF32), "GPU");
  EXPECT_TRUE(same_key(a, convt1d::detail::tune_key(t5_like(31, 300, CONVT1D_BFLOAT16, CONVT1D_MATH_IEEE), "GPU")));
  EXPECT_FALSE(same_key(a, convt1d::detail::tune_key(t5_like(32, 264, CONVT1D_BFLOAT16, CONVT1D_MATH_TF32), "GPU")));
  EXPECT_FALSE(same_key(a, convt1d::detail::tune_key(t5_like(16, 512, CONVT1D_BFLOAT16, CONVT1D_MATH_TF32), "GPU")));
  EXPECT_FALSE(same_key(a, convt1d::detail::tune_key(t5_like(16, 264, CONVT1D_BFLOAT16, CONVT1D_MATH_TF32), "GPU2")));
  const TuneEntry tf32 = convt1d::detail::tune_key(t5_like(16, 264, CONVT1D_FLOAT32, CONVT1D_MATH_TF32), "GPU");
  EXPECT_FALSE(same_key(tf32, convt1d::detail::tune_key(t5_like(16, 264, CONVT1D_FLOAT32, CONVT1D_MATH_IEEE), "GPU")));
  EXPECT_FALSE(same_key(tf32, a));
}

TEST(TuneTable, FormatAndParseRoundTripAndPutReplaces) {
  TuneTable table;
  TuneEntry a = convt1d::detail::tune_key(t5_like(16, 264, CONVT1D_FLOAT32, CONVT1D_MATH_IEEE), "NVIDIA H100 80GB HBM3");
  a.algorithm = CONVT1D_ALGO_IMPLICIT_GEMM;
  TuneEntry b = convt1d::detail::tune_key(t5_like(1, 4096, CONVT1D_FLOAT16, CONVT1D_MATH_TF32), "NVIDIA H200");
  b.algorithm = CONVT1D_ALGO_WGMMA;
  table.put(a);
  table.put(b);
  const TuneTable back = convt1d::detail::parse_tune_table(convt1d::detail::format_tune_table(table), "t");
  ASSERT_EQ(back.entries.size(), 2u);
  EXPECT_EQ(back.find(a), CONVT1D_ALGO_IMPLICIT_GEMM);
  EXPECT_EQ(back.find(b), CONVT1D_ALGO_WGMMA);
  TuneEntry c = convt1d::detail::tune_key(t5_like(2, 4096, CONVT1D_FLOAT16, CONVT1D_MATH_TF32), "NVIDIA H200");
  EXPECT_EQ(back.find(c), CONVT1D_ALGO_AUTO);  // another batch class
  b.algorithm = CONVT1D_ALGO_NARROW;
  table.put(b);  // same key: replaced, not added
  ASSERT_EQ(table.entries.size(), 2u);
  EXPECT_EQ(table.find(b), CONVT1D_ALGO_NARROW);
  table.remove(a);
  ASSERT_EQ(table.entries.size(), 1u);
  EXPECT_EQ(table.find(a), CONVT1D_ALGO_AUTO);
  EXPECT_EQ(table.find(b), CONVT1D_ALGO_NARROW);
}

TEST(TuneTable, CommentsBlankLinesAndCarriageReturnsAreSkipped) {
  const TuneTable t = convt1d::detail::parse_tune_table(
      "# header\n\nGPU\tbfloat16\t-\t768\t384\t16\t8\t4\t0\t1\t1\t1\t5\t9\twgmma\r\n", "t");
  ASSERT_EQ(t.entries.size(), 1u);
  EXPECT_EQ(t.find(convt1d::detail::tune_key(t5_like(16, 264, CONVT1D_BFLOAT16, CONVT1D_MATH_TF32), "GPU")),
            CONVT1D_ALGO_WGMMA);
}

TEST(TuneTable, EveryMalformedFieldNamesItsLine) {
  const std::string good = "GPU\tbfloat16\t-\t768\t384\t16\t8\t4\t0\t1\t1\t1\t5\t9\twgmma";
  struct Bad {
    std::string line, needle;
  } bad[] = {
      {"GPU\tbfloat16\t-\t768", "expected 15 tab-separated fields, got 4"},
      {"\tbfloat16\t-\t768\t384\t16\t8\t4\t0\t1\t1\t1\t5\t9\twgmma", "device"},
      {"GPU\tint8\t-\t768\t384\t16\t8\t4\t0\t1\t1\t1\t5\t9\twgmma", "dtype: expected float32, float16, bfloat16"},
      {"GPU\tfloat32\t-\t768\t384\t16\t8\t4\t0\t1\t1\t1\t5\t9\twgmma", "math: expected tf32 or ieee for float32"},
      {"GPU\tbfloat16\ttf32\t768\t384\t16\t8\t4\t0\t1\t1\t1\t5\t9\twgmma", "math: expected - for bfloat16"},
      {"GPU\tbfloat16\t-\tx768\t384\t16\t8\t4\t0\t1\t1\t1\t5\t9\twgmma", "C_in: expected a whole number >= 1, got 'x768'"},
      {"GPU\tbfloat16\t-\t 768\t384\t16\t8\t4\t0\t1\t1\t1\t5\t9\twgmma", "C_in: expected a whole number >= 1, got ' 768'"},
      {"GPU\tbfloat16\t-\t768\t+384\t16\t8\t4\t0\t1\t1\t1\t5\t9\twgmma", "C_out: expected a whole number >= 1"},
      {"GPU\tbfloat16\t-\t768\t384\t99999999999999999999\t8\t4\t0\t1\t1\t1\t5\t9\twgmma", "K: expected a whole number >= 1"},
      {"GPU\tbfloat16\t-\t768\t384\t16\t8\t-4\t0\t1\t1\t1\t5\t9\twgmma", "padding: expected a whole number >= 0"},
      {"GPU\tbfloat16\t-\t768\t384\t16\t8\t4\t0\t1\t1\t2\t5\t9\twgmma", "bias: expected a whole number from 0 to 1"},
      {"GPU\tbfloat16\t-\t768\t384\t16\t8\t4\t0\t1\t1\t1\t65\t9\twgmma", "batch_class: expected a whole number from 1 to 64"},
      {"GPU\tbfloat16\t-\t768\t384\t16\t8\t4\t0\t1\t1\t1\t5\t9\tauto", "algorithm: expected direct, implicit_gemm"},
  };
  for (const Bad& b : bad) {
    try {
      convt1d::detail::parse_tune_table("# comment\n" + good + "\n" + b.line + "\n", "table.tsv");
      ADD_FAILURE() << "accepted: " << b.line;
    } catch (const ApiError& e) {
      EXPECT_EQ(e.status, CONVT1D_INVALID_ARGUMENT);
      EXPECT_TRUE(t1d::contains(e.what(), "table.tsv:3: ")) << e.what();
      EXPECT_TRUE(t1d::contains(e.what(), b.needle)) << e.what();
    }
  }
}

TEST(TuneTable, FilesSaveLoadAndMissingFiles) {
  const std::string path = temp_path("convt1d_tune_roundtrip.tsv");
  std::remove(path.c_str());
  EXPECT_TRUE(convt1d::detail::load_tune_file(path, true).entries.empty());
  EXPECT_THROW(convt1d::detail::load_tune_file(path, false), ApiError);
  TuneTable table;
  TuneEntry e = convt1d::detail::tune_key(t5_like(16, 264, CONVT1D_BFLOAT16, CONVT1D_MATH_TF32), "GPU");
  e.algorithm = CONVT1D_ALGO_IMPLICIT_GEMM;
  table.put(e);
  convt1d::detail::save_tune_file(path, table);
  EXPECT_EQ(convt1d::detail::load_tune_file(path, false).find(e), CONVT1D_ALGO_IMPLICIT_GEMM);
}

TEST(TuneTable, TheVariableNamesTheTableAndIsReadAgainWhenItChanges) {
  const convt1d_problem p = t5_like(16, 264, CONVT1D_BFLOAT16, CONVT1D_MATH_TF32);
  EXPECT_EQ(convt1d::detail::tuned_problem(p, "GPU").algorithm, CONVT1D_ALGO_AUTO);  // unset
  const std::string first = temp_path("convt1d_tune_first.tsv"), second = temp_path("convt1d_tune_second.tsv");
  write_file(first, "GPU\tbfloat16\t-\t768\t384\t16\t8\t4\t0\t1\t1\t1\t5\t9\twgmma\n");
  write_file(second, "GPU\tbfloat16\t-\t768\t384\t16\t8\t4\t0\t1\t1\t1\t5\t9\timplicit_gemm\n");
  {
    TuneFileVariable v(first);
    EXPECT_EQ(convt1d::detail::tuned_problem(p, "GPU").algorithm, CONVT1D_ALGO_WGMMA);
    EXPECT_EQ(convt1d::detail::tuned_problem(p, "Other GPU").algorithm, CONVT1D_ALGO_AUTO);
    convt1d_problem forced = p;
    forced.algorithm = CONVT1D_ALGO_NARROW;  // an explicit choice is never replaced
    EXPECT_EQ(convt1d::detail::tuned_problem(forced, "GPU").algorithm, CONVT1D_ALGO_NARROW);
  }
  {
    TuneFileVariable v(second);
    EXPECT_EQ(convt1d::detail::tuned_problem(p, "GPU").algorithm, CONVT1D_ALGO_IMPLICIT_GEMM);
  }
  const std::string broken = temp_path("convt1d_tune_broken.tsv");
  write_file(broken, "GPU\tbfloat16\n");
  TuneFileVariable v(broken);
  for (int i = 0; i < 2; ++i) {  // refused on every call, not only the first
    try {
      convt1d::detail::tuned_problem(p, "GPU");
      ADD_FAILURE() << "a malformed table was accepted";
    } catch (const ApiError& e) {
      EXPECT_TRUE(t1d::contains(e.what(), broken + ":1: expected 15")) << e.what();
      EXPECT_TRUE(t1d::contains(e.what(), "CONVT1D_TUNE_FILE")) << e.what();
    }
  }
}

#ifdef CONVT1D_WITH_CUDA
// fp32 in TF32 mode on a tensor-core kernel is ~1e-4 from the fp64 reference; `direct` computes in
// fp32 FMA (~1e-7). So the error tells which kernel a table made the call run.
double tf32_problem_error(const convt1d_problem& p, const t1d::Inputs& in, const std::vector<double>& ref) {
  const t1d::TypedBuffer x = t1d::TypedBuffer::from_double(CONVT1D_FLOAT32, in.x);
  const t1d::TypedBuffer w = t1d::TypedBuffer::from_double(CONVT1D_FLOAT32, in.w);
  t1d::TypedBuffer y(CONVT1D_FLOAT32, t1d::y_count(p));
  y.poison();
  convt1d::tools::GpuBuffer dx(x.size_bytes()), dw(w.size_bytes()), dy(y.size_bytes());
  dx.upload(x.data(), x.size_bytes());
  dw.upload(w.data(), w.size_bytes());
  dy.upload(y.data(), y.size_bytes());
  const convt1d_status st = convt1d_forward(&p, dx.get(), dw.get(), nullptr, dy.get(), nullptr);
  if (st != CONVT1D_OK) return -1;
  dy.download(y.data(), y.size_bytes());
  const t1d::Comparison c = t1d::compare(y.to_double(), ref);
  EXPECT_EQ(c.non_finite, 0);
  return c.rel_error;
}

TEST(TuneTableCuda, AnEntryChangesTheKernelAndARefusedOneFallsBackToAuto) {
  if (convt1d_cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device";
  convt1d_problem p = convt1d_problem_init(2, 64, 32, 300, 5);
  p.stride = 2;
  p.dtype = CONVT1D_FLOAT32;
  p.math = CONVT1D_MATH_TF32;
  t1d::Rng rng(11);
  const t1d::Inputs in = t1d::random_inputs(rng, p, CONVT1D_FLOAT32);
  const std::vector<double> ref = t1d::reference_of(p, in);
  const double auto_error = tf32_problem_error(p, in, ref);
  ASSERT_GT(auto_error, 1e-6) << "AUTO is expected to run a TF32 tensor-core kernel here";
  ASSERT_LT(auto_error, 5e-3);

  cudaDeviceProp prop{};
  ASSERT_EQ(cudaGetDeviceProperties(&prop, 0), cudaSuccess);
  const std::string device = prop.name;
  auto table_with = [&](int32_t algorithm, const char* name) {
    TuneTable t;
    TuneEntry e = convt1d::detail::tune_key(p, device);
    e.algorithm = algorithm;
    t.put(e);
    const std::string path = temp_path(name);
    convt1d::detail::save_tune_file(path, t);
    return path;
  };
  {
    TuneFileVariable v(table_with(CONVT1D_ALGO_DIRECT, "convt1d_tune_direct.tsv"));
    const double tuned_error = tf32_problem_error(p, in, ref);
    EXPECT_GE(tuned_error, 0);
    EXPECT_LT(tuned_error, 1e-6) << "the table's direct kernel (fp32 FMA) did not run";
  }
  {
    // narrow takes C_out * K <= 32 only: refused for this problem, so AUTO runs.
    TuneFileVariable v(table_with(CONVT1D_ALGO_NARROW, "convt1d_tune_narrow.tsv"));
    const double fallback_error = tf32_problem_error(p, in, ref);
    EXPECT_GT(fallback_error, 1e-6);
    EXPECT_LT(fallback_error, 5e-3);
  }
  {
    const std::string broken = temp_path("convt1d_tune_broken_gpu.tsv");
    write_file(broken, "not a table\n");
    TuneFileVariable v(broken);
    // Full-size buffers: were the table not refused, the call would still write only its own memory.
    convt1d::tools::GpuBuffer dx(t1d::x_count(p) * 4), dw(t1d::w_count(p) * 4), dy(t1d::y_count(p) * 4);
    EXPECT_EQ(convt1d_forward(&p, dx.get(), dw.get(), nullptr, dy.get(), nullptr), CONVT1D_INVALID_ARGUMENT);
    EXPECT_TRUE(t1d::contains(convt1d_last_error(), broken + ":1:")) << convt1d_last_error();
  }
}
#endif

}  // namespace
