#include "bench/report.hpp"

#include <cmath>
#include <sstream>

#include "problem.hpp"

namespace convt1d::bench {

namespace {

int mode_index(Mode m) { return static_cast<int>(m); }

// "1.234 ms" / the status word where there is no time, so a wrong kernel never shows a number.
std::string time_or_status(const Timing& t) {
  char buf[64];
  if (t.ok()) {
    std::snprintf(buf, sizeof buf, "%.4f", t.ms.median);
    return buf;
  }
  return status_name(t.status);
}

std::string fmt(double v, const char* spec) {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, spec, v);
  return buf;
}

std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      o += buf;
    } else {
      o += static_cast<char>(c);
    }
  }
  return o + "\"";
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string json_timing(const Timing& t, const CaseResult& c) {
  std::ostringstream o;
  o << "{\"status\": " << json_string(status_name(t.status));
  if (t.ok()) {
    o << ", \"median_ms\": " << json_number(t.ms.median) << ", \"min_ms\": " << json_number(t.ms.min)
      << ", \"max_ms\": " << json_number(t.ms.max) << ", \"repeats\": " << t.ms.count
      << ", \"gbps\": " << json_number(gbps(c.bytes, t.ms.median))
      << ", \"tflops\": " << json_number(tflops(c.flops, t.ms.median))
      << ", \"pct_of_floor\": " << json_number(percent_of_floor(c.floor_ms, t.ms.median));
  }
  if (t.check.checked > 0) {
    o << ", \"rel_err\": " << json_number(t.check.rel_l2) << ", \"max_abs_err\": " << json_number(t.check.max_abs_err)
      << ", \"checked\": " << t.check.checked;
  }
  if (!t.check.message.empty()) o << ", \"check\": " << json_string(t.check.message);
  if (!t.detail.empty()) o << ", \"detail\": " << json_string(t.detail);
  o << "}";
  return o.str();
}

}  // namespace

const char* status_name(Timing::Status s) {
  switch (s) {
    case Timing::Status::NotRun: return "not run";
    case Timing::Status::Ok: return "ok";
    case Timing::Status::Fail: return "FAIL";
    case Timing::Status::Error: return "ERROR";
    case Timing::Status::Unsupported: return "unsupported";
  }
  return "?";
}

void fill_roofline(CaseResult* c, double copy_gbps) {
  c->bytes = traffic_of(c->problem, detail::dtype_size(c->problem.dtype)).total();
  c->flops = flops_of(c->problem);
  c->floor_ms = memory_floor_ms(c->bytes, copy_gbps);
}

bool is_failure(const CaseResult& c) {
  return c.ours.status == Timing::Status::Fail || c.ours.status == Timing::Status::Error;
}

int count_failures(const BenchReport& r) {
  int n = 0;
  for (const CaseResult& c : r.cases) n += is_failure(c) ? 1 : 0;
  return n;
}

double geomean_speedup(const BenchReport& r, Mode mode, bool vs_best) {
  std::vector<double> s;
  for (const CaseResult& c : r.cases) {
    const Timing& base = vs_best ? c.cudnn_best : c.cudnn_heuristic;
    if (c.mode == mode && c.ours.ok() && base.ok()) s.push_back(speedup(base.ms.median, c.ours.ms.median));
  }
  return geometric_mean(s);
}

void print_case_line(std::FILE* out, const CaseResult& c) {
  std::fprintf(out, "%-6s %-9s ours ", c.id.c_str(), mode_name(c.mode));
  if (c.ours.ok()) {
    std::fprintf(out, "%9.4f ms [%.4f..%.4f]", c.ours.ms.median, c.ours.ms.min, c.ours.ms.max);
  } else {
    std::fprintf(out, "%s (%s)", status_name(c.ours.status),
                 c.ours.check.message.empty() ? c.ours.detail.c_str() : c.ours.check.message.c_str());
  }
  const Timing* bases[2] = {&c.cudnn_heuristic, &c.cudnn_best};
  const char* names[2] = {"cuDNN-heur", "cuDNN-best"};
  for (int i = 0; i < 2; ++i) {
    const Timing& b = *bases[i];
    if (b.status == Timing::Status::NotRun) continue;
    if (b.ok()) {
      std::fprintf(out, " | %s %.4f ms", names[i], b.ms.median);
      if (c.ours.ok()) std::fprintf(out, " (%.2fx)", speedup(b.ms.median, c.ours.ms.median));
    } else {
      std::fprintf(out, " | %s %s (%s)", names[i], status_name(b.status),
                   b.check.message.empty() ? b.detail.c_str() : b.check.message.c_str());
    }
  }
  if (c.ours.ok()) {
    const double ms = c.ours.ms.median;
    std::fprintf(out, " | %s GB/s %s TFLOP/s", fmt(gbps(c.bytes, ms), "%.4g").c_str(),
                 fmt(tflops(c.flops, ms), "%.3g").c_str());
    if (std::isfinite(c.floor_ms) && c.floor_ms > 0) {
      std::fprintf(out, " | floor %.4f ms (%s%%)", c.floor_ms, fmt(percent_of_floor(c.floor_ms, ms), "%.0f").c_str());
    }
  }
  std::fprintf(out, "\n");
}

void print_summary(std::FILE* out, const BenchReport& r) {
  std::fprintf(out, "geomean speedup vs cuDNN heuristic:");
  for (Mode m : all_modes()) {
    std::fprintf(out, "  %s %s", mode_name(m), fmt(geomean_speedup(r, m, false), "%.2fx").c_str());
  }
  std::fprintf(out, "\ngeomean speedup vs cuDNN best:     ");
  for (Mode m : all_modes()) {
    std::fprintf(out, "  %s %s", mode_name(m), fmt(geomean_speedup(r, m, true), "%.2fx").c_str());
  }
  const int failures = count_failures(r);
  std::fprintf(out, "\n%d case(s) run, %d failure(s)\n", static_cast<int>(r.cases.size()), failures);
}

void print_table(std::FILE* out, const BenchReport& r) {
  std::fprintf(out, "\n%-6s %-9s %10s %10s %10s %8s %8s %8s %8s %6s\n", "case", "mode", "ours ms", "heur ms",
               "best ms", "x heur", "x best", "GB/s", "TFLOP/s", "%floor");
  for (const CaseResult& c : r.cases) {
    const double ms = c.ours.ok() ? c.ours.ms.median : NAN;
    const double h = c.cudnn_heuristic.ok() ? c.cudnn_heuristic.ms.median : NAN;
    const double b = c.cudnn_best.ok() ? c.cudnn_best.ms.median : NAN;
    std::fprintf(out, "%-6s %-9s %10s %10s %10s %8s %8s %8s %8s %6s\n", c.id.c_str(), mode_name(c.mode),
                 time_or_status(c.ours).c_str(),
                 c.cudnn_heuristic.status == Timing::Status::NotRun ? "-" : time_or_status(c.cudnn_heuristic).c_str(),
                 c.cudnn_best.status == Timing::Status::NotRun ? "-" : time_or_status(c.cudnn_best).c_str(),
                 fmt(speedup(h, ms), "%.2f").c_str(), fmt(speedup(b, ms), "%.2f").c_str(),
                 fmt(gbps(c.bytes, ms), "%.4g").c_str(), fmt(tflops(c.flops, ms), "%.3g").c_str(),
                 fmt(percent_of_floor(c.floor_ms, ms), "%.0f").c_str());
  }
}

std::string to_json(const BenchReport& r) {
  std::ostringstream o;
  o << "{\n  \"tool\": \"convt1d bench\",\n  \"version\": " << json_string(convt1d_version())
    << ",\n  \"backend\": " << json_string(r.backend) << ",\n  \"device\": {\"name\": " << json_string(r.device_name)
    << ", \"sm_count\": " << r.sm_count << ", \"l2_bytes\": " << r.l2_bytes << "},\n  \"copy_gbps\": "
    << json_number(r.copy_gbps > 0 ? r.copy_gbps : NAN) << ",\n  \"gemm_tflops\": {";
  for (Mode m : all_modes()) {
    const double v = r.gemm_tflops[mode_index(m)];
    o << (m == Mode::TF32 ? "" : ", ") << json_string(mode_name(m)) << ": " << json_number(v > 0 ? v : NAN);
  }
  o << "},\n  \"cudnn\": {\"available\": " << (r.cudnn_available ? "true" : "false")
    << ", \"info\": " << json_string(r.cudnn) << "},\n  \"repeats\": " << r.repeats << ",\n  \"warmup\": " << r.warmup
    << ",\n  \"algorithm\": " << json_string(r.algorithm) << ",\n  \"notes\": [";
  for (std::size_t i = 0; i < r.notes.size(); ++i) o << (i ? ", " : "") << json_string(r.notes[i]);
  o << "],\n  \"cases\": [";
  for (std::size_t i = 0; i < r.cases.size(); ++i) {
    const CaseResult& c = r.cases[i];
    const convt1d_problem& p = c.problem;
    const double ours = c.ours.ok() ? c.ours.ms.median : NAN;
    o << (i ? "," : "") << "\n    {\"id\": " << json_string(c.id) << ", \"model\": " << json_string(c.model)
      << ", \"mode\": " << json_string(mode_name(c.mode)) << ",\n     \"problem\": {\"B\": " << p.batch
      << ", \"C_in\": " << p.in_channels << ", \"C_out\": " << p.out_channels << ", \"K\": " << p.kernel_size
      << ", \"stride\": " << p.stride << ", \"padding\": " << p.padding << ", \"output_padding\": " << p.output_padding
      << ", \"dilation\": " << p.dilation << ", \"groups\": " << p.groups << ", \"L_in\": " << p.in_length
      << ", \"L_out\": " << detail::output_length_unchecked(p) << ", \"bias\": " << p.has_bias << "},\n     \"bytes\": "
      << json_number(c.bytes) << ", \"flops\": " << json_number(c.flops)
      << ", \"arithmetic_intensity\": " << json_number(arithmetic_intensity(c.flops, c.bytes))
      << ", \"floor_ms\": " << json_number(c.floor_ms) << ",\n     \"ours\": " << json_timing(c.ours, c)
      << ",\n     \"cudnn_heuristic\": " << json_timing(c.cudnn_heuristic, c)
      << ",\n     \"cudnn_best\": " << json_timing(c.cudnn_best, c)
      << ",\n     \"speedup_vs_heuristic\": "
      << json_number(c.cudnn_heuristic.ok() ? speedup(c.cudnn_heuristic.ms.median, ours) : NAN)
      << ", \"speedup_vs_best\": " << json_number(c.cudnn_best.ok() ? speedup(c.cudnn_best.ms.median, ours) : NAN)
      << ", \"ours_vs_cudnn_rel\": " << json_number(c.ours_vs_cudnn_rel >= 0 ? c.ours_vs_cudnn_rel : NAN) << "}";
  }
  o << "\n  ],\n  \"summary\": {\"failures\": " << count_failures(r) << ", \"geomean_speedup_vs_heuristic\": {";
  for (Mode m : all_modes()) {
    o << (m == Mode::TF32 ? "" : ", ") << json_string(mode_name(m)) << ": " << json_number(geomean_speedup(r, m, false));
  }
  o << "}, \"geomean_speedup_vs_best\": {";
  for (Mode m : all_modes()) {
    o << (m == Mode::TF32 ? "" : ", ") << json_string(mode_name(m)) << ": " << json_number(geomean_speedup(r, m, true));
  }
  o << "}}\n}\n";
  return o.str();
}

}  // namespace convt1d::bench
