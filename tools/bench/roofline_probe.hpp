// The device's measured ceilings for the roofline: device-to-device copy bandwidth and cuBLAS GEMM
// rates per precision. Measured, not taken from the data sheet, because the floor we report must be
// reachable on this very card and clock. Built only with CUDA.
#pragma once

#include <string>
#include <vector>

namespace convt1d::bench {

struct DeviceCeilings {
  std::string name;
  int sm_count = 0;
  long long l2_bytes = 0;
  double copy_gbps = 0;                  // (bytes read + bytes written) / time of a large cudaMemcpyAsync
  double gemm_tflops[4] = {0, 0, 0, 0};  // indexed by Mode: tf32, ieee fp32, fp16, bf16 (fp32 accumulate)
  std::vector<std::string> notes;        // probes that could not run, and why
};

// Device properties always; the copy and GEMM probes only when `measure` is true.
DeviceCeilings probe_device(bool measure);

}  // namespace convt1d::bench
