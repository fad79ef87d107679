#include "bench/suite.hpp"

#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "bench/csv.hpp"
#include "problem.hpp"
#include "whole_number.hpp"

#ifndef CONVT1D_SOURCE_DIR
#define CONVT1D_SOURCE_DIR "."
#endif

namespace convt1d::bench {

namespace {

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

constexpr int kColumns = 13;
const char* const kColumnNames[kColumns] = {"id",      "model",          "B",        "C_in",   "C_out",
                                            "K",       "stride",         "padding",  "output_padding",
                                            "dilation", "groups",        "L_in",     "bias"};

}  // namespace

SuiteParse parse_suite(std::istream& in, const std::string& source_name) {
  SuiteParse out;
  std::set<std::string> ids;
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    const std::string content = trim(line);
    if (content.empty() || content[0] == '#') continue;
    const std::string where = source_name + ":" + std::to_string(line_number) + ": ";
    std::vector<std::string> f = split_csv(content);
    for (auto& field : f) field = trim(field);
    if (f[0] == "id") continue;  // header row
    if (f.size() != kColumns) {
      out.errors.push_back(where + "expected " + std::to_string(kColumns) + " columns (id,model,B,C_in,C_out,K,"
                           "stride,padding,output_padding,dilation,groups,L_in,bias), got " +
                           std::to_string(f.size()));
      continue;
    }
    if (f[0].empty()) {
      out.errors.push_back(where + "empty id");
      continue;
    }
    int64_t v[kColumns] = {};
    std::string bad;
    for (int c = 2; c < kColumns; ++c) {
      if (!convt1d::detail::parse_whole_number(f[c], std::numeric_limits<int64_t>::min(),
                                                 std::numeric_limits<int64_t>::max(), &v[c])) {
        bad = std::string("column ") + kColumnNames[c] + " is not a whole number: '" + f[c] + "'";
        break;
      }
    }
    if (bad.empty() && v[12] != 0 && v[12] != 1) bad = "column bias must be 0 or 1, got " + f[12];
    if (!bad.empty()) {
      out.errors.push_back(where + bad);
      continue;
    }
    BenchCase c;
    c.id = f[0];
    c.model = f[1];
    c.problem = convt1d_problem_init(v[2], v[3], v[4], v[11], v[5]);
    c.problem.stride = v[6];
    c.problem.padding = v[7];
    c.problem.output_padding = v[8];
    c.problem.dilation = v[9];
    c.problem.groups = v[10];
    c.problem.has_bias = static_cast<int32_t>(v[12]);
    try {
      convt1d::detail::validate(c.problem);
    } catch (const std::exception& e) {
      out.errors.push_back(where + "case " + c.id + ": " + e.what());
      continue;
    }
    if (!ids.insert(c.id).second) {
      out.errors.push_back(where + "duplicate id " + c.id);
      continue;
    }
    out.cases.push_back(c);
  }
  return out;
}

SuiteParse load_suite(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    SuiteParse out;
    out.errors.push_back("cannot open suite file " + path);
    return out;
  }
  return parse_suite(in, path);
}

BenchCase headline_case() {
  BenchCase c;
  c.id = "KB74";
  c.model = "KernelBench L1 #74 (headline)";
  c.problem = convt1d_problem_init(32, 32, 64, 131072, 5);
  c.problem.dilation = 3;
  c.problem.has_bias = 0;
  return c;
}

std::string default_suite_path() {
  const std::string local = "bench/suite.csv";
  if (std::ifstream(local).good()) return local;
  return std::string(CONVT1D_SOURCE_DIR) + "/bench/suite.csv";
}

std::vector<std::string> split_ids(const std::vector<std::string>& values) {
  std::vector<std::string> ids;
  for (const std::string& value : values) {
    std::stringstream in(value);
    std::string id;
    while (std::getline(in, id, ',')) {
      id = trim(id);
      if (!id.empty()) ids.push_back(id);
    }
  }
  return ids;
}

bool select_cases(const std::vector<BenchCase>& suite, const std::vector<std::string>& ids,
                  std::vector<BenchCase>* selected, std::string* error) {
  selected->clear();
  std::string unknown;
  for (const std::string& id : ids) {
    bool found = false;
    for (const BenchCase& c : suite) {
      if (c.id == id) {
        selected->push_back(c);
        found = true;
        break;
      }
    }
    if (!found) unknown += (unknown.empty() ? "" : ", ") + id;
  }
  if (!unknown.empty()) {
    *error = "unknown case id(s): " + unknown;
    return false;
  }
  return true;
}

}  // namespace convt1d::bench
