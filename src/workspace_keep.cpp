#include "workspace_keep.hpp"

#include <string>

#include "problem.hpp"

namespace convt1d::detail {

int64_t workspace_keep_bytes(const char* env_value) {
  if (env_value == nullptr) return kWorkspaceKeepDefaultMiB << 20;
  constexpr int64_t kMaxMiB = int64_t{1} << 40;
  int64_t mib = 0;
  const std::string text(env_value);
  bool ok = !text.empty();
  for (char c : text) {
    if (c < '0' || c > '9' || mib > kMaxMiB) {
      ok = false;
      break;
    }
    mib = mib * 10 + (c - '0');
  }
  if (!ok || mib > kMaxMiB)
    fail(CONVT1D_INVALID_ARGUMENT, std::string("convt1d: ") + kWorkspaceKeepEnv +
                                       " must be a whole number of MiB from 0 to 2^40 (the workspace the memory "
                                       "pool keeps across synchronisations), got '" + text + "'");
  return mib << 20;
}

}  // namespace convt1d::detail
