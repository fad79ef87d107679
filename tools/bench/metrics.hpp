// Roofline arithmetic for one benchmark case: bytes that must move, FLOPs, the memory floor, rates, and
// the statistics of a set of timings. Pure functions, tested without a GPU.
#pragma once

#include <cstddef>
#include <vector>

#include "convt1d/convt1d.h"

namespace convt1d::bench {

// Bytes each tensor occupies; moving each once is the least traffic any implementation can have.
struct Traffic {
  double x = 0, w = 0, bias = 0, y = 0;
  double total() const { return x + w + bias + y; }
};

Traffic traffic_of(const convt1d_problem& p, std::size_t element_bytes);

// 2 * B * C_in * (C_out/groups) * K * L_in: every (input, tap, output channel) product, counted once.
double flops_of(const convt1d_problem& p);

// Time to move `bytes` at the measured device copy bandwidth (GB/s counting read + written bytes).
double memory_floor_ms(double bytes, double copy_gbps);

// 100 * floor / measured: 100 means at the floor. NaN when either is not positive.
double percent_of_floor(double floor_ms, double measured_ms);

double gbps(double bytes, double ms);      // bytes / time, in 1e9 bytes per second
double tflops(double flops, double ms);    // in 1e12 per second
double arithmetic_intensity(double flops, double bytes);
double speedup(double baseline_ms, double ours_ms);  // NaN when either is missing

struct Stats {
  double median = 0, min = 0, max = 0;
  int count = 0;
};
Stats summarize(std::vector<double> samples_ms);

// Geometric mean of the finite positive values; NaN when there are none.
double geometric_mean(const std::vector<double>& values);

}  // namespace convt1d::bench
