// Host-side number formats: fp16/bf16 bit conversions (round to nearest even) and typed-buffer
// conversion to and from double. Used by the CPU backend, the tests and the tools.
#pragma once

#include <cstdint>
#include <cstring>

#include "convt1d/convt1d.h"

namespace convt1d::detail {

inline float bits_to_float(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
inline uint32_t float_to_bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }

inline float bf16_to_float(uint16_t h) { return bits_to_float(static_cast<uint32_t>(h) << 16); }

inline uint16_t float_to_bf16(float f) {
  uint32_t u = float_to_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

inline float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t man = h & 0x3ffu;
  if (exp == 0x1f) return bits_to_float(sign | 0x7f800000u | (man << 13));
  if (exp == 0) {
    if (man == 0) return bits_to_float(sign);
    // subnormal: value = man * 2^-24
    float v = static_cast<float>(man) * 5.9604644775390625e-08f;
    return sign ? -v : v;
  }
  return bits_to_float(sign | ((exp + 112u) << 23) | (man << 13));
}

inline uint16_t float_to_half(float f) {
  const uint32_t u = float_to_bits(f);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);  // NaN
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to inf
  if (a < 0x38800000u) {                                                // subnormal or zero in fp16
    // Scale into the subnormal range; float addition does the round-to-nearest-even for us.
    const float scaled = bits_to_float(a) * 16777216.0f;  // value / 2^-24
    const float r = scaled + 12582912.0f - 12582912.0f;   // round to integer, ties to even
    return static_cast<uint16_t>(sign | static_cast<uint16_t>(r));
  }
  uint32_t m = a + 0xfffu + ((a >> 13) & 1u);  // round mantissa to 10 bits, ties to even
  return static_cast<uint16_t>(sign | ((m - 0x38000000u) >> 13));
}

// Element i of a typed buffer, as double.
inline double load_as_double(int32_t dtype, const void* data, int64_t i) {
  switch (dtype) {
    case CONVT1D_FLOAT32: return static_cast<const float*>(data)[i];
    case CONVT1D_FLOAT16: return half_to_float(static_cast<const uint16_t*>(data)[i]);
    case CONVT1D_BFLOAT16: return bf16_to_float(static_cast<const uint16_t*>(data)[i]);
    default: return static_cast<const double*>(data)[i];
  }
}

// Stores v (rounded to the dtype, nearest even) as element i of a typed buffer.
inline void store_from_double(int32_t dtype, void* data, int64_t i, double v) {
  switch (dtype) {
    case CONVT1D_FLOAT32: static_cast<float*>(data)[i] = static_cast<float>(v); break;
    case CONVT1D_FLOAT16: static_cast<uint16_t*>(data)[i] = float_to_half(static_cast<float>(v)); break;
    case CONVT1D_BFLOAT16: static_cast<uint16_t*>(data)[i] = float_to_bf16(static_cast<float>(v)); break;
    default: static_cast<double*>(data)[i] = v; break;
  }
}

}  // namespace convt1d::detail
