// `convt1d`: command-line entry. Each sub-command lives in its own file (see commands.hpp).
#include <cstdio>
#include <cstring>

#include "commands.hpp"
#include "convt1d/convt1d.h"

namespace {

void usage(FILE* out) {
  std::fprintf(out,
               "convt1d %s — 1-D transposed convolution (nn.ConvTranspose1d) for NVIDIA GPUs\n"
               "usage: convt1d <command> [options]\n"
               "  check    random problems through every backend and mode against the fp64 reference\n"
               "  bench    ours vs cuDNN on KernelBench #74 (default) or the model suite (--suite)\n"
               "  profile  Nsight Compute metrics of our kernel on one case (--case ID)\n"
               "  tune     time every algorithm on cases, record the winners for CONVT1D_TUNE_FILE\n"
               "  version  print the library version\n"
               "`convt1d <command> -h` shows a command's options.\n",
               convt1d_version());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char* cmd = argv[1];
  if (!std::strcmp(cmd, "check")) return convt1d::cli::run_check(argc - 2, argv + 2);
  if (!std::strcmp(cmd, "bench")) return convt1d::cli::run_bench(argc - 2, argv + 2);
  if (!std::strcmp(cmd, "profile")) return convt1d::cli::run_profile(argc - 2, argv + 2);
  if (!std::strcmp(cmd, "tune")) return convt1d::cli::run_tune(argc - 2, argv + 2);
  if (!std::strcmp(cmd, "version") || !std::strcmp(cmd, "--version")) {
    std::printf("%s\n", convt1d_version());
    return 0;
  }
  if (!std::strcmp(cmd, "-h") || !std::strcmp(cmd, "--help") || !std::strcmp(cmd, "help")) {
    usage(stdout);
    return 0;
  }
  std::fprintf(stderr, "convt1d: unknown command '%s'\n", cmd);
  usage(stderr);
  return 2;
}
