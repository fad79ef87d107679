// The benchmark's cases: the headline shape and the suite CSV (bench/suite.csv) of real layer shapes.
//   columns: id,model,B,C_in,C_out,K,stride,padding,output_padding,dilation,groups,L_in,bias
//   lines starting with '#' and blank lines are ignored; the header row (first field "id") is skipped.
#pragma once

#include <istream>
#include <string>
#include <vector>

#include "convt1d/convt1d.h"

namespace convt1d::bench {

struct BenchCase {
  std::string id;
  std::string model;
  convt1d_problem problem;  // shape and bias; dtype, math, device and algorithm are set per run
};

struct SuiteParse {
  std::vector<BenchCase> cases;
  std::vector<std::string> errors;  // "source:line: what is wrong"; a bad row is never half-used
  bool ok() const { return errors.empty(); }
};

SuiteParse parse_suite(std::istream& in, const std::string& source_name);
SuiteParse load_suite(const std::string& path);

// KernelBench level-1 #74: B 32, C_in 32, C_out 64, K 5, dilation 3, L_in 131072, no bias.
BenchCase headline_case();

// The suite file used when --suite is not given: bench/suite.csv under the working directory, else the
// copy in the source tree this binary was built from.
std::string default_suite_path();

// Splits repeated/comma-separated --case values into ids ("S1,S2" -> S1, S2).
std::vector<std::string> split_ids(const std::vector<std::string>& values);

// The cases named by ids, in that order; false with *error naming the unknown ids.
bool select_cases(const std::vector<BenchCase>& suite, const std::vector<std::string>& ids,
                  std::vector<BenchCase>* selected, std::string* error);

}  // namespace convt1d::bench
