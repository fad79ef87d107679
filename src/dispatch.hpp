// The one entry point behind convt1d_forward: validate, plan, check pointers, run the chosen backend.
#pragma once

#include <cstdint>

#include "convt1d/convt1d.h"

namespace convt1d::detail {

// Weights packed ahead by pack_weight, and the layout the caller says they were packed in.
struct PackedWeight {
  const void* data;
  convt1d_packed_layout layout;
};

// Throws ApiError on any failure; runs nothing unless every argument is valid. With `packed`, the
// plan's kernel reads those bytes in place of packing w itself (where it packs any: w is still what
// the fallback kernels read).
void forward(const convt1d_problem& p, const void* x, const void* w, const void* bias, void* y, void* stream,
             const PackedWeight* packed = nullptr);

// The layout pack_weight writes for p's plan on the current device (plan.hpp's PackedLayout); bytes 0
// and id 0 where it packs none (the CPU, every kernel but the fp32 tap-major one on W^T, batch 0).
convt1d_packed_layout packed_weight_layout(const convt1d_problem& p);
// Throws unless `layout` is p's.
void pack_weight(const convt1d_problem& p, const void* w, void* packed, const convt1d_packed_layout& layout,
                 void* stream);

}  // namespace convt1d::detail
