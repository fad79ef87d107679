#include "plan_cache.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>

namespace convt1d::detail {

namespace {

// Every problem field and every device property make_plan reads.
using Key = std::array<int64_t, 22>;

Key key_of(const convt1d_problem& p, const DeviceInfo& d) {
  return {p.batch,          p.in_channels, p.out_channels, p.in_length,        p.kernel_size, p.stride,
          p.padding,        p.output_padding, p.dilation,  p.groups,           p.has_bias,    p.dtype,
          p.math,           p.device,      p.algorithm,    d.ordinal,          d.cc_major,    d.cc_minor,
          d.sm_count,       d.smem_per_block_optin,        d.smem_per_sm,      d.wgmma ? 1 : 0};
}

struct KeyHash {
  std::size_t operator()(const Key& k) const {
    std::size_t h = 1469598103934665603ull;
    for (int64_t v : k) h = (h ^ std::hash<int64_t>{}(v)) * 1099511628211ull;
    return h;
  }
};

std::mutex mutex;
std::unordered_map<Key, std::shared_ptr<const Plan>, KeyHash> plans;

}  // namespace

std::shared_ptr<const Plan> cached_plan(const convt1d_problem& p, const DeviceInfo& dev) {
  const Key key = key_of(p, dev);
  {
    std::lock_guard<std::mutex> lock(mutex);
    const auto it = plans.find(key);
    if (it != plans.end()) return it->second;
  }
  // Planned outside the lock (two threads may both plan a new problem; either result is the same).
  auto plan = std::make_shared<const Plan>(make_plan(p, dev));
  std::lock_guard<std::mutex> lock(mutex);
  if (plans.size() >= kPlanCacheLimit) plans.clear();
  return plans.emplace(key, std::move(plan)).first->second;
}

std::size_t plan_cache_size() {
  std::lock_guard<std::mutex> lock(mutex);
  return plans.size();
}

}  // namespace convt1d::detail
