#include "bench/options.hpp"

#include <cstring>

#include "bench/suite.hpp"
#include "plan.hpp"
#include "whole_number.hpp"

namespace convt1d::bench {

namespace {

constexpr int64_t kMaxCount = 1000000;  // runs, warm-up runs and seeds

bool parse_count(const std::string& text, int64_t min_value, int* value) {
  int64_t v = 0;
  if (!detail::parse_whole_number(text, min_value, kMaxCount, &v)) return false;
  *value = static_cast<int>(v);
  return true;
}

}  // namespace

bool parse_algorithm(const std::string& text, int32_t* algorithm) {
  for (int32_t a = CONVT1D_ALGO_AUTO; a <= CONVT1D_ALGO_NARROW; ++a)
    if (text == detail::algorithm_name(a)) {
      *algorithm = a;
      return true;
    }
  return false;
}

const char* algorithm_name(int32_t algorithm) { return detail::algorithm_name(algorithm); }

bool parse_bench_options(int argc, char** argv, BenchOptions* out, std::string* error) {
  BenchOptions o;
  std::vector<std::string> case_values;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_inline_value = false;
    const auto eq = arg.find('=');
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_inline_value = true;
    }
    // Takes the option's value from "--opt=v" or the next argument.
    auto need_value = [&](const char* what) -> bool {
      if (has_inline_value) return true;
      if (i + 1 >= argc) {
        *error = arg + " needs a value (" + what + ")";
        return false;
      }
      value = argv[++i];
      return true;
    };
    if (arg == "-h" || arg == "--help") {
      o.help = true;
    } else if (arg == "--suite") {
      o.use_suite = true;
      if (has_inline_value) {
        o.suite_path = value;
      } else if (i + 1 < argc && argv[i + 1][0] != '-') {
        o.suite_path = argv[++i];
      }  // "--suite" alone: the default file
    } else if (arg == "--case") {
      if (!need_value("a case id or a comma list of ids")) return false;
      case_values.push_back(value);
    } else if (arg == "--mode") {
      if (!need_value("tf32, ieee, fp16, bf16 or all")) return false;
      std::string mode_error;
      if (!parse_modes(value, &o.modes, &mode_error)) {
        *error = "--mode: " + mode_error;
        return false;
      }
    } else if (arg == "--json") {
      if (!need_value("an output file")) return false;
      o.json_path = value;
    } else if (arg == "--repeats") {
      if (!need_value("a count")) return false;
      if (!parse_count(value, 1, &o.repeats)) {
        *error = "--repeats expects a whole number from 1 to " + std::to_string(kMaxCount) + ", got '" + value + "'";
        return false;
      }
      o.repeats_given = true;
    } else if (arg == "--warmup") {
      if (!need_value("a count")) return false;
      if (!parse_count(value, 0, &o.warmup)) {
        *error = "--warmup expects a whole number from 0 to " + std::to_string(kMaxCount) + ", got '" + value + "'";
        return false;
      }
      o.warmup_given = true;
    } else if (arg == "--algo") {
      if (!need_value("auto, direct, implicit_gemm, wgmma, wgmma_stream or narrow")) return false;
      if (!parse_algorithm(value, &o.algorithm)) {
        *error = "--algo expects auto, direct, implicit_gemm, wgmma, wgmma_stream or narrow, got '" + value + "'";
        return false;
      }
    } else if (arg == "--seed") {
      int seed = 0;
      if (!need_value("an integer")) return false;
      if (!parse_count(value, 0, &seed)) {
        *error = "--seed expects a whole number from 0 to " + std::to_string(kMaxCount) + ", got '" + value + "'";
        return false;
      }
      o.seed = static_cast<uint64_t>(seed);
    } else if (arg == "--quick") {
      o.quick = true;
    } else if (arg == "--no-baseline") {
      o.no_baseline = true;
    } else if (arg == "--no-roofline") {
      o.no_roofline = true;
    } else if (arg == "--packed-weights") {
      o.packed_weights = true;
    } else {
      *error = "unknown option '" + std::string(argv[i]) + "' (see convt1d bench -h)";
      return false;
    }
  }
  o.case_ids = split_ids(case_values);
  if (!case_values.empty() && o.case_ids.empty()) {
    *error = "--case expects a case id or a comma list of ids, got an empty value";
    return false;
  }
  if (o.quick && !o.repeats_given) o.repeats = 10;
  if (o.repeats < kMinRepeats && !o.quick) {
    *error = "--repeats must be >= " + std::to_string(kMinRepeats) + " for a reportable median, got " +
             std::to_string(o.repeats) + " (add --quick for a smoke run)";
    return false;
  }
  *out = o;
  return true;
}

const char* bench_usage() {
  return "usage: convt1d bench [options]\n"
         "  Ours vs cuDNN (called as PyTorch calls it) on KernelBench L1 #74 by default, in all modes.\n"
         "  --suite [FILE]     the real-model suite (default bench/suite.csv)\n"
         "  --case ID[,ID..]   only these cases of the suite (repeatable); implies the default suite\n"
         "  --mode M[,M..]     tf32, ieee, fp16, bf16 or all (default all)\n"
         "  --json OUT         write device, ceilings and every result as JSON (python -m convt1d.plot)\n"
         "  --repeats N        timed runs per measurement, >= 50 (default 50)\n"
         "  --warmup N         untimed runs first (default 10)\n"
         "  --quick            allow --repeats < 50 (default 10): smoke runs, not for reporting\n"
         "  --algo A           auto, direct, implicit_gemm, wgmma, wgmma_stream or narrow (default auto)\n"
         "  --no-baseline      skip cuDNN\n"
         "  --no-roofline      skip the copy-bandwidth and cuBLAS probes\n"
         "  --packed-weights   ours on weights packed once per case (convt1d_pack_weight, untimed):\n"
         "                     what inference with unchanging weights sees\n"
         "  --seed N           input data seed\n"
         "  -h, --help         this text\n"
         "Without a CUDA device the CPU backend runs at a reduced size instead.\n";
}

}  // namespace convt1d::bench

namespace convt1d::bench {

bool resolve_cases(const BenchOptions& opts, std::vector<BenchCase>* cases, std::string* error) {
  cases->clear();
  if (!opts.use_suite && opts.case_ids.empty()) {
    cases->push_back(headline_case());
    return true;
  }
  const std::string path = opts.suite_path.empty() ? default_suite_path() : opts.suite_path;
  const SuiteParse suite = load_suite(path);
  if (!suite.ok()) {
    *error = "bad suite file:";
    for (const std::string& e : suite.errors) *error += "\n  " + e;
    return false;
  }
  if (opts.case_ids.empty()) {
    *cases = suite.cases;
    if (cases->empty()) *error = "suite file " + path + " has no cases";
    return !cases->empty();
  }
  std::string select_error;
  if (!select_cases(suite.cases, opts.case_ids, cases, &select_error)) {
    *error = select_error + " (in " + path + ")";
    return false;
  }
  return true;
}

}  // namespace convt1d::bench
