// `convt1d profile --case ID [--mode M]`: Nsight Compute metrics of our kernels on one case. It re-runs
// this same binary as `convt1d bench` (one check run, one timed run, no cuDNN) under ncu, restricted
// to our kernels, and prints the metrics per kernel launch.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/wait.h>
#include <vector>

#include "bench/modes.hpp"
#include "bench/ncu_csv.hpp"
#include "commands.hpp"

namespace convt1d::cli {

namespace {

// Each launch's time at the GPU's own clocks (ncu runs with --clock-control none, so the durations
// add up to what `convt1d bench` times), how busy its tensor pipe, SMs and DRAM are, and the bytes it
// moves through DRAM and L2: what tells a packing pass bound by DRAM from a main loop bound by its MMAs
// or its operand traffic (perf-log steps 169-172).
const char* const kMetrics =
    "gpu__time_duration.sum,launch__grid_size,sm__throughput.avg.pct_of_peak_sustained_elapsed,"
    "sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_elapsed,"
    "sm__warps_active.avg.pct_of_peak_sustained_active,dram__throughput.avg.pct_of_peak_sustained_elapsed,"
    "dram__bytes_read.sum,dram__bytes_write.sum,lts__t_bytes.sum,lts__t_sector_hit_rate.pct";

const char* const kUsage =
    "usage: convt1d profile --case ID [--mode tf32|ieee|fp16|bf16] [--packed-weights] [--ncu PATH]\n"
    "  Runs Nsight Compute (ncu) on `convt1d bench --case ID --mode M` restricted to our kernels and prints,\n"
    "  per kernel launch: its duration at the GPU's own clocks, grid size, SM, tensor-pipe and DRAM\n"
    "  utilisation, achieved occupancy, DRAM bytes read and written, L2 bytes and L2 hit rate.\n"
    "  --packed-weights   the call on weights packed once (as `convt1d bench --packed-weights`)\n";

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

bool executable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

// ncu from --ncu, $PATH, or the CUDA toolkit's usual places.
std::string find_ncu(const std::string& given) {
  if (!given.empty()) return executable(given) ? given : "";
  if (const char* path = std::getenv("PATH")) {
    std::string dirs = path;
    std::size_t start = 0;
    while (start <= dirs.size()) {
      const std::size_t end = dirs.find(':', start);
      const std::string dir = dirs.substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (!dir.empty() && executable(dir + "/ncu")) return dir + "/ncu";
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  for (const char* p : {"/usr/local/cuda/bin/ncu", "/opt/nvidia/nsight-compute/ncu"}) {
    if (executable(p)) return p;
  }
  return "";
}

std::string self_path() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "convt1d";
  buf[n] = '\0';
  return buf;
}

}  // namespace

int run_profile(int argc, char** argv) {
  std::string case_id, mode = "tf32", ncu_given;
  bool packed_weights = false;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* what) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "convt1d profile: %s needs a value (%s)\n", a.c_str(), what);
        return nullptr;
      }
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--case") {
      const char* v = value("a case id of bench/suite.csv");
      if (!v) return 2;
      case_id = v;
    } else if (a == "--mode") {
      const char* v = value("tf32, ieee, fp16 or bf16");
      if (!v) return 2;
      mode = v;
    } else if (a == "--packed-weights") {
      packed_weights = true;
    } else if (a == "--ncu") {
      const char* v = value("the ncu executable");
      if (!v) return 2;
      ncu_given = v;
    } else {
      std::fprintf(stderr, "convt1d profile: unknown option '%s'\n%s", a.c_str(), kUsage);
      return 2;
    }
  }
  if (case_id.empty()) {
    std::fprintf(stderr, "convt1d profile: --case ID is required\n%s", kUsage);
    return 2;
  }
  std::vector<bench::Mode> modes;
  std::string error;
  if (!bench::parse_modes(mode, &modes, &error) || modes.size() != 1) {
    std::fprintf(stderr, "convt1d profile: --mode expects one of tf32, ieee, fp16, bf16, got '%s'\n", mode.c_str());
    return 2;
  }
  const std::string ncu = find_ncu(ncu_given);
  if (ncu.empty()) {
    std::fprintf(stderr, "convt1d profile: Nsight Compute (ncu) %s; install Nsight Compute or pass --ncu PATH\n",
                 ncu_given.empty() ? "is not on PATH nor in /usr/local/cuda/bin" : ("not executable: " + ncu_given).c_str());
    return 1;
  }
  const std::string cmd = shell_quote(ncu) + " --clock-control none --csv --metrics " + kMetrics +
                          " -k " + shell_quote(bench::kOurKernelsRegex) + " " + shell_quote(self_path()) +
                          " bench --case " + shell_quote(case_id) + " --mode " + bench::mode_short(modes[0]) +
                          " --repeats 1 --warmup 0 --quick --no-baseline --no-roofline" +
                          (packed_weights ? " --packed-weights" : "") + " 2>&1";
  std::fprintf(stderr, "running: %s\n", cmd.c_str());
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) {
    std::fprintf(stderr, "convt1d profile: cannot start ncu (%s)\n", ncu.c_str());
    return 1;
  }
  std::string output;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) output.append(buf, n);
  const int status = pclose(pipe);

  const std::string failure = bench::ncu_failure(output);
  const bench::NcuParse parsed = bench::parse_ncu_csv(output);
  if (!failure.empty() || parsed.kernels.empty()) {
    std::fprintf(stderr, "convt1d profile: %s\n", !failure.empty() ? failure.c_str()
                                                  : !parsed.error.empty() ? parsed.error.c_str()
                                                                           : "ncu reported no kernel metrics");
    std::fprintf(stderr, "--- ncu output ---\n%s\n", output.c_str());
    return 1;
  }
  std::printf("case %s, mode %s%s: %zu kernel launch(es) of ours, in launch order\n",
              case_id.c_str(), bench::mode_name(modes[0]), packed_weights ? ", weights packed once" : "",
              parsed.kernels.size());
  for (const bench::KernelMetrics& k : parsed.kernels) {
    std::printf("\n[%s] %s\n", k.id.c_str(), k.kernel.c_str());
    for (const auto& m : k.metrics) std::printf("  %-55s %s\n", m.first.c_str(), m.second.c_str());
  }
  if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    std::fprintf(stderr, "convt1d profile: the profiled bench run exited with status %d (see above)\n",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 1;
  }
  return 0;
}

}  // namespace convt1d::cli
