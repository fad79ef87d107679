// An H100-like device as the planner sees it (132 SMs, 227 KB of shared memory per block), for the
// planner tests that run on the CPU.
#pragma once

#include "plan.hpp"

namespace t1d {

inline convt1d::detail::DeviceInfo hopper_info(bool wgmma = true, int ordinal = 0) {
  convt1d::detail::DeviceInfo d;
  d.ordinal = ordinal;
  d.cc_major = 9;
  d.cc_minor = 0;
  d.sm_count = 132;
  d.smem_per_block_optin = 232448;
  d.smem_per_sm = 233472;
  d.wgmma = wgmma;
  return d;
}

}  // namespace t1d
