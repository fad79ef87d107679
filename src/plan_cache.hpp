// Plans by problem and device. make_plan costs ~5 us on the host (the implicit-GEMM tiling search),
// more than the rest of a call's host work together, while a model calls the same few layer shapes
// over and over: each distinct (problem, device) is planned once and the plan shared after that.
#pragma once

#include <cstddef>
#include <memory>

#include "plan.hpp"

namespace convt1d::detail {

constexpr std::size_t kPlanCacheLimit = 1024;  // distinct plans kept; past it the cache starts over

// make_plan(p, dev), made on the first call for this (problem, device) and shared afterwards.
// Thread-safe. Throws what make_plan throws, caching nothing then.
std::shared_ptr<const Plan> cached_plan(const convt1d_problem& p, const DeviceInfo& dev);

std::size_t plan_cache_size();  // plans held now (for tests)

}  // namespace convt1d::detail
