// The explicit lists of what exists: policies by name.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "policies/policy.h"

namespace harness {

// Valid policy names with a one-line description each ("dream-vla:PATH" takes an argument).
std::vector<std::pair<std::string, std::string>> policy_names();

// Builds a policy from "NAME" or "NAME:ARGUMENT". An unknown name throws
// std::runtime_error listing the valid names.
std::unique_ptr<policies::Policy> make_policy(const std::string& spec);

}  // namespace harness
