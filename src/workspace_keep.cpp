#include "workspace_keep.hpp"

#include <string>

#include "problem.hpp"
#include "whole_number.hpp"

namespace convt1d::detail {

int64_t workspace_keep_bytes(const char* env_value) {
  if (env_value == nullptr) return kWorkspaceKeepDefaultMiB << 20;
  constexpr int64_t kMaxMiB = int64_t{1} << 40;
  int64_t mib = 0;
  if (!parse_whole_number(env_value, 0, kMaxMiB, &mib))
    fail(CONVT1D_INVALID_ARGUMENT, std::string("convt1d: ") + kWorkspaceKeepEnv +
                                       " must be a whole number of MiB from 0 to 2^40 (the workspace the memory "
                                       "pool keeps across synchronisations), got '" + env_value + "'");
  return mib << 20;
}

}  // namespace convt1d::detail
