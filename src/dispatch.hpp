// The one entry point behind convt1d_forward: validate, plan, check pointers, run the chosen backend.
#pragma once

#include "convt1d/convt1d.h"

namespace convt1d::detail {

// Throws ApiError on any failure; runs nothing unless every argument is valid.
void forward(const convt1d_problem& p, const void* x, const void* w, const void* bias, void* y, void* stream);

}  // namespace convt1d::detail
