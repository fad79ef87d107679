// One CSV line into fields, for the suite file and Nsight Compute's --csv output.
#pragma once

#include <string>
#include <vector>

namespace convt1d::bench {

// Fields may be double-quoted (a quote inside is written ""); carriage returns outside quotes are dropped.
std::vector<std::string> split_csv(const std::string& line);

}  // namespace convt1d::bench
