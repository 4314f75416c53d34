#include "harness/version.h"

#ifdef VLA_WITH_TORCH
#include <torch/csrc/api/include/torch/version.h>
#endif

namespace harness {

std::string libtorch_version() {
#ifdef VLA_WITH_TORCH
  return TORCH_VERSION;
#else
  return "none";
#endif
}

}  // namespace harness
