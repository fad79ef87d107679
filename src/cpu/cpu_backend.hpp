// CPU backend: any dtype, OpenMP over (batch, output channel). Products are accumulated in double,
// so the CPU result is the reference rounded once to the output dtype.
#pragma once

#include "convt1d/convt1d.h"

namespace convt1d::detail {

void cpu_forward(const convt1d_problem& p, const void* x, const void* w, const void* bias, void* y);

}  // namespace convt1d::detail
