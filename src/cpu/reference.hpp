// fp64 reference for conv_transpose1d: the definition, written for clarity, not speed.
// Inputs are double arrays in the library's layouts; bias may be null.
#pragma once

#include <cstdint>

#include "convt1d/convt1d.h"

namespace convt1d::detail {

// One output element y[b, co, t].
double reference_point(const convt1d_problem& p, const double* x, const double* w, const double* bias,
                       int64_t b, int64_t co, int64_t t);

// The whole output (batch, out_channels, out_length).
void reference_forward(const convt1d_problem& p, const double* x, const double* w, const double* bias,
                       double* y);

}  // namespace convt1d::detail
