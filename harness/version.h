// Build facts for result context blocks.
#pragma once

#include <string>

namespace harness {

std::string git_revision();      // short revision the binary was built from
std::string libtorch_version();  // "none" when built without libtorch

}  // namespace harness
