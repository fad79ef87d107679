// The plan cache (src/plan_cache.hpp): one plan per distinct (problem, device), identical to
// make_plan's, shared across calls and threads, nothing cached for a problem that cannot be planned.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <thread>
#include <vector>

#include "convt1d/convt1d.h"
#include "plan.hpp"
#include "plan_cache.hpp"
#include "problem.hpp"
#include "test_hopper.hpp"
#include "test_util.hpp"

namespace {

using convt1d::detail::cached_plan;
using convt1d::detail::DeviceInfo;
using convt1d::detail::Plan;

DeviceInfo h100(int ordinal = 0) { return t1d::hopper_info(true, ordinal); }

convt1d_problem problem(int64_t batch, int64_t c_in, int32_t dtype) {
  convt1d_problem p = convt1d_problem_init(batch, c_in, 256, 100, 16);
  p.stride = 8;
  p.padding = 4;
  p.dtype = dtype;
  p.device = CONVT1D_DEVICE_CUDA;
  return p;
}

void expect_same_plan(const Plan& got, const Plan& want) {
  EXPECT_EQ(got.kernel, want.kernel);
  EXPECT_EQ(got.reason, want.reason);
  EXPECT_EQ(got.gemm.tiles, want.gemm.tiles);
  EXPECT_EQ(got.gemm.smem_bytes, want.gemm.smem_bytes);
  EXPECT_EQ(got.gemm.splits, want.gemm.splits);
  EXPECT_EQ(got.wgmma.tiles, want.wgmma.tiles);
  EXPECT_EQ(got.wgmma.n(), want.wgmma.n());
  EXPECT_EQ(got.shape.out_length, want.shape.out_length);
}

TEST(PlanCache, SameProblemSharesOnePlanEqualToMakePlan) {
  const convt1d_problem p = problem(3, 512, CONVT1D_BFLOAT16);
  const auto first = cached_plan(p, h100());
  const auto again = cached_plan(p, h100());
  EXPECT_EQ(first.get(), again.get()) << "a repeated problem must not be planned again";
  expect_same_plan(*first, convt1d::detail::make_plan(p, h100()));
}

TEST(PlanCache, EveryFieldAndTheDeviceMatter) {
  const convt1d_problem base = problem(2, 384, CONVT1D_FLOAT16);
  const auto base_plan = cached_plan(base, h100());
  std::vector<convt1d_problem> variants(15, base);
  variants[0].batch = 5;
  variants[1].in_channels = 256;
  variants[2].out_channels = 128;
  variants[3].in_length = 64;
  variants[4].kernel_size = 8;
  variants[5].stride = 4;
  variants[6].padding = 2;
  variants[7].output_padding = 1;
  variants[8].dilation = 2;
  variants[9].groups = 2;
  variants[10].has_bias = 1;
  variants[11].dtype = CONVT1D_FLOAT32;
  variants[12].math = CONVT1D_MATH_IEEE;
  variants[13].algorithm = CONVT1D_ALGO_DIRECT;
  variants[14].device = CONVT1D_DEVICE_CPU;
  for (const convt1d_problem& v : variants) {
    SCOPED_TRACE(t1d::describe(v));
    const auto plan = cached_plan(v, h100());
    EXPECT_NE(plan.get(), base_plan.get());
    expect_same_plan(*plan, convt1d::detail::make_plan(v, h100()));
  }
  DeviceInfo other = h100(1);
  other.wgmma = false;
  const auto on_other = cached_plan(base, other);
  EXPECT_NE(on_other.get(), base_plan.get());
  expect_same_plan(*on_other, convt1d::detail::make_plan(base, other));
}

TEST(PlanCache, UnplannableProblemThrowsAndCachesNothing) {
  convt1d_problem p = problem(1, 64, CONVT1D_FLOAT64);
  p.algorithm = CONVT1D_ALGO_WGMMA;  // wgmma has no fp64 path: make_plan refuses
  const std::size_t before = convt1d::detail::plan_cache_size();
  EXPECT_THROW(cached_plan(p, h100()), convt1d::detail::ApiError);
  EXPECT_EQ(convt1d::detail::plan_cache_size(), before);
}

TEST(PlanCache, ConcurrentCallersGetConsistentPlans) {
  std::vector<convt1d_problem> problems;
  for (int i = 0; i < 16; ++i) problems.push_back(problem(1 + i % 4, 128 * (1 + i / 4), CONVT1D_BFLOAT16));
  std::vector<Plan> want;
  for (const auto& p : problems) want.push_back(convt1d::detail::make_plan(p, h100()));
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 400; ++i) {
        const std::size_t k = static_cast<std::size_t>(i * 7 + t) % problems.size();
        const auto plan = cached_plan(problems[k], h100());
        if (plan->kernel != want[k].kernel || plan->gemm.tiles != want[k].gemm.tiles ||
            plan->wgmma.tiles != want[k].wgmma.tiles)
          ++mismatches;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(PlanCache, StaysBounded) {
  for (int64_t i = 1; i <= static_cast<int64_t>(convt1d::detail::kPlanCacheLimit) + 10; ++i)
    (void)cached_plan(problem(i, 64, CONVT1D_FLOAT32), h100());
  EXPECT_LE(convt1d::detail::plan_cache_size(), convt1d::detail::kPlanCacheLimit);
}

// What the cache is for: a lookup costs a small fraction of planning (measured on this CPU).
TEST(PlanCache, LookupIsMuchCheaperThanPlanning) {
  const convt1d_problem p = problem(16, 1536, CONVT1D_FLOAT32);
  (void)cached_plan(p, h100());
  auto per_call_ns = [](auto&& fn) {
    constexpr int kCalls = 2000;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kCalls; ++i) fn();
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / kCalls;
  };
  const double lookup = per_call_ns([&] { (void)cached_plan(p, h100()); });
  const double planning = per_call_ns([&] { (void)convt1d::detail::make_plan(p, h100()); });
  std::cout << "[ info ] make_plan " << planning << " ns, cached lookup " << lookup << " ns\n";
  EXPECT_LT(lookup * 4, planning);
}

}  // namespace
