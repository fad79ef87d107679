#include "tune_table.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <mutex>
#include <sstream>

#include "plan.hpp"
#include "problem.hpp"
#include "whole_number.hpp"

namespace convt1d::detail {

namespace {

constexpr int kFields = 15;  // the members of TuneEntry
constexpr const char* kHeader =
    "# convt1d tune table: the fastest measured algorithm per shape class (see src/tune_table.hpp)\n"
    "# device\tdtype\tmath\tC_in\tC_out\tK\tstride\tpadding\toutput_padding\tdilation\tgroups\tbias\t"
    "batch_class\tlength_class\talgorithm\n";

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t tab = line.find('\t', start);
    fields.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) return fields;
    start = tab + 1;
  }
}

int32_t dtype_code(const std::string& name) {
  for (int32_t d : {CONVT1D_FLOAT32, CONVT1D_FLOAT16, CONVT1D_BFLOAT16, CONVT1D_FLOAT64})
    if (name == dtype_name(d)) return d;
  return -1;
}

std::mutex file_mutex;
std::string loaded_path;  // the CONVT1D_TUNE_FILE value the table below was read from
TuneTable loaded;
std::string load_error;   // non-empty: that file could not be used

}  // namespace

int32_t size_class(int64_t n) {
  int32_t bits = 0;
  for (; n > 0; n >>= 1) ++bits;
  return bits;
}

TuneEntry tune_key(const convt1d_problem& p, const std::string& device) {
  TuneEntry k;
  k.device = device;
  k.dtype = p.dtype;
  k.math = p.dtype == CONVT1D_FLOAT32 ? p.math : -1;
  k.in_channels = p.in_channels;
  k.out_channels = p.out_channels;
  k.kernel_size = p.kernel_size;
  k.stride = p.stride;
  k.padding = p.padding;
  k.output_padding = p.output_padding;
  k.dilation = p.dilation;
  k.groups = p.groups;
  k.has_bias = p.has_bias;
  k.batch_class = size_class(p.batch);
  k.length_class = size_class(p.in_length);
  return k;
}

bool same_key(const TuneEntry& a, const TuneEntry& b) {
  return a.device == b.device && a.dtype == b.dtype && a.math == b.math && a.in_channels == b.in_channels &&
         a.out_channels == b.out_channels && a.kernel_size == b.kernel_size && a.stride == b.stride &&
         a.padding == b.padding && a.output_padding == b.output_padding && a.dilation == b.dilation &&
         a.groups == b.groups && a.has_bias == b.has_bias && a.batch_class == b.batch_class &&
         a.length_class == b.length_class;
}

int32_t TuneTable::find(const TuneEntry& key) const {
  for (const TuneEntry& e : entries)
    if (same_key(e, key)) return e.algorithm;
  return CONVT1D_ALGO_AUTO;
}

void TuneTable::put(const TuneEntry& entry) {
  for (TuneEntry& e : entries)
    if (same_key(e, entry)) {
      e = entry;
      return;
    }
  entries.push_back(entry);
}

void TuneTable::remove(const TuneEntry& key) {
  for (auto it = entries.begin(); it != entries.end(); ++it)
    if (same_key(*it, key)) {
      entries.erase(it);
      return;
    }
}

TuneTable parse_tune_table(const std::string& text, const std::string& source) {
  TuneTable table;
  std::istringstream in(text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const std::string where = source + ":" + std::to_string(number) + ": ";
    const std::vector<std::string> f = split_tabs(line);
    if (f.size() != kFields)
      fail(CONVT1D_INVALID_ARGUMENT, where + "expected " + std::to_string(kFields) + " tab-separated fields, got " +
                                         std::to_string(f.size()));
    TuneEntry e;
    e.device = f[0];
    if (e.device.empty()) fail(CONVT1D_INVALID_ARGUMENT, where + "device: expected a CUDA device name, got nothing");
    e.dtype = dtype_code(f[1]);
    if (e.dtype < 0)
      fail(CONVT1D_INVALID_ARGUMENT, where + "dtype: expected float32, float16, bfloat16 or float64, got '" + f[1] + "'");
    if (e.dtype == CONVT1D_FLOAT32 && (f[2] == "tf32" || f[2] == "ieee"))
      e.math = f[2] == "tf32" ? CONVT1D_MATH_TF32 : CONVT1D_MATH_IEEE;
    else if (e.dtype != CONVT1D_FLOAT32 && f[2] == "-")
      e.math = -1;
    else
      fail(CONVT1D_INVALID_ARGUMENT, where + "math: expected " + (e.dtype == CONVT1D_FLOAT32 ? "tf32 or ieee" : "-") +
                                         " for " + f[1] + ", got '" + f[2] + "'");
    const char* names[] = {"C_in", "C_out", "K", "stride", "padding", "output_padding", "dilation", "groups",
                           "bias", "batch_class", "length_class"};
    const int64_t minimum[] = {1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1};
    // bias is 0 or 1; the classes count the bits of a size (size_class)
    constexpr int64_t kAny = std::numeric_limits<int64_t>::max(), kMaxClass = 64;
    const int64_t maximum[] = {kAny, kAny, kAny, kAny, kAny, kAny, kAny, kAny, 1, kMaxClass, kMaxClass};
    int64_t v[11];
    for (int i = 0; i < 11; ++i)
      if (!parse_whole_number(f[3 + i], minimum[i], maximum[i], &v[i]))
        fail(CONVT1D_INVALID_ARGUMENT, where + names[i] + ": expected a whole number " +
                                           (maximum[i] == kAny ? ">= " + std::to_string(minimum[i])
                                                               : "from " + std::to_string(minimum[i]) + " to " +
                                                                     std::to_string(maximum[i])) +
                                           ", got '" + f[3 + i] + "'");
    e.in_channels = v[0];
    e.out_channels = v[1];
    e.kernel_size = v[2];
    e.stride = v[3];
    e.padding = v[4];
    e.output_padding = v[5];
    e.dilation = v[6];
    e.groups = v[7];
    e.has_bias = static_cast<int32_t>(v[8]);
    e.batch_class = static_cast<int32_t>(v[9]);
    e.length_class = static_cast<int32_t>(v[10]);
    e.algorithm = -1;
    for (int32_t a = CONVT1D_ALGO_DIRECT; a <= CONVT1D_ALGO_NARROW; ++a)
      if (f[14] == algorithm_name(a)) e.algorithm = a;
    if (e.algorithm < 0)
      fail(CONVT1D_INVALID_ARGUMENT,
           where + "algorithm: expected direct, implicit_gemm, wgmma, wgmma_stream or narrow, got '" + f[14] + "'");
    table.put(e);
  }
  return table;
}

std::string format_tune_table(const TuneTable& table) {
  std::string out = kHeader;
  for (const TuneEntry& e : table.entries) {
    const int64_t ints[] = {e.in_channels, e.out_channels, e.kernel_size, e.stride, e.padding, e.output_padding,
                            e.dilation, e.groups, e.has_bias, e.batch_class, e.length_class};
    out += e.device + "\t" + dtype_name(e.dtype) + "\t" + (e.math < 0 ? "-" : math_name(e.math));
    for (int64_t v : ints) out += "\t" + std::to_string(v);
    out += std::string("\t") + algorithm_name(e.algorithm) + "\n";
  }
  return out;
}

TuneTable load_tune_file(const std::string& path, bool missing_ok) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (missing_ok) return {};
    fail(CONVT1D_INVALID_ARGUMENT, "convt1d: cannot read the tune table " + path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_tune_table(text.str(), path);
}

void save_tune_file(const std::string& path, const TuneTable& table) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << format_tune_table(table);
    if (!out) fail(CONVT1D_INVALID_ARGUMENT, "convt1d: cannot write the tune table " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    fail(CONVT1D_INVALID_ARGUMENT, "convt1d: cannot rename " + tmp + " to " + path);
}

bool tune_file_named() {
  const char* path = std::getenv("CONVT1D_TUNE_FILE");
  return path != nullptr && path[0] != '\0';
}

convt1d_problem tuned_problem(const convt1d_problem& p, const std::string& device) {
  const char* path = std::getenv("CONVT1D_TUNE_FILE");
  if (p.algorithm != CONVT1D_ALGO_AUTO || path == nullptr || path[0] == '\0') return p;
  std::lock_guard<std::mutex> lock(file_mutex);
  if (loaded_path != path) {
    loaded_path = path;
    load_error.clear();
    try {
      loaded = load_tune_file(path, false);
    } catch (const ApiError& e) {
      loaded = {};
      load_error = std::string(e.what()) + " (CONVT1D_TUNE_FILE)";
    }
  }
  if (!load_error.empty()) fail(CONVT1D_INVALID_ARGUMENT, load_error);
  convt1d_problem q = p;
  q.algorithm = loaded.find(tune_key(p, device));
  return q;
}

}  // namespace convt1d::detail
