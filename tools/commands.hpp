// Sub-commands of the `convt1d` CLI. Each takes the arguments after its name and returns the exit code.
#pragma once

namespace convt1d::cli {

int run_check(int argc, char** argv);    // tools/check.cpp
int run_bench(int argc, char** argv);    // tools/bench/bench.cpp
int run_profile(int argc, char** argv);  // tools/bench/profile.cpp
int run_tune(int argc, char** argv);     // tools/bench/tune.cpp

}  // namespace convt1d::cli
