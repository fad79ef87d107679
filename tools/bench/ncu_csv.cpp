#include "bench/ncu_csv.hpp"

#include <algorithm>
#include <sstream>

#include "bench/csv.hpp"

namespace convt1d::bench {

namespace {

int column(const std::vector<std::string>& header, const char* name) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

NcuParse parse_ncu_csv(const std::string& output) {
  NcuParse out;
  std::istringstream in(output);
  std::string line;
  std::vector<std::string> header;
  int c_id = -1, c_kernel = -1, c_name = -1, c_unit = -1, c_value = -1;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '"') continue;
    const std::vector<std::string> f = split_csv(line);
    if (header.empty()) {
      if (f.empty() || f[0] != "ID") continue;
      header = f;
      c_id = column(header, "ID");
      c_kernel = column(header, "Kernel Name");
      c_name = column(header, "Metric Name");
      c_unit = column(header, "Metric Unit");
      c_value = column(header, "Metric Value");
      if (c_kernel < 0 || c_name < 0 || c_value < 0) {
        out.error = "ncu CSV header lacks Kernel Name / Metric Name / Metric Value columns";
        return out;
      }
      continue;
    }
    if (static_cast<int>(f.size()) <= std::max({c_id, c_kernel, c_name, c_value, c_unit})) continue;
    if (out.kernels.empty() || out.kernels.back().id != f[c_id]) {
      out.kernels.push_back({f[c_id], f[c_kernel], {}});
    }
    std::string value = f[c_value];
    if (c_unit >= 0 && !f[c_unit].empty()) value += " " + f[c_unit];
    out.kernels.back().metrics.emplace_back(f[c_name], value);
  }
  if (header.empty()) out.error = "no CSV table in ncu's output";
  return out;
}

std::string ncu_failure(const std::string& output) {
  if (output.find("ERR_NVGPUCTRPERM") != std::string::npos ||
      output.find("permission to access NVIDIA GPU Performance Counters") != std::string::npos) {
    return "ncu cannot read the GPU performance counters on this machine (ERR_NVGPUCTRPERM): run as root, or "
           "allow non-admin profiling (NVreg_RestrictProfilingToAdminUsers=0); see "
           "https://developer.nvidia.com/ERR_NVGPUCTRPERM";
  }
  if (output.find("No kernels were profiled") != std::string::npos) {
    return std::string("ncu profiled no kernel: none of ours matched -k ") + kOurKernelsRegex +
           " (did the case run on the GPU?)";
  }
  std::istringstream in(output);
  std::string line, errors;
  while (std::getline(in, line)) {
    if (line.rfind("==ERROR==", 0) == 0) errors += (errors.empty() ? "" : "\n") + line;
  }
  return errors.empty() ? "" : "ncu reported errors:\n" + errors;
}

}  // namespace convt1d::bench
