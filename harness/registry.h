// The explicit lists of what exists: policies by name.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "policies/policy.h"

namespace harness {

// Valid policy names with a one-line description each ("dream-vla:PATH" takes an argument).
std::vector<std::pair<std::string, std::string>> policy_names();

// What the run tells the policy factory besides the spec.
struct PolicyOptions {
  std::string family = "libero";  // task family of the run: picks a remote policy's profile
  int replan_steps = 0;           // remote policies: actions executed per chunk; 0: the profile's
};

// Builds a policy from "NAME", "NAME:ARGUMENT" or a remote policy URL
// ("openpi://HOST:PORT[?...]", "gr00t://HOST:PORT[?...]"). An unknown name throws
// std::runtime_error listing the valid names.
std::unique_ptr<policies::Policy> make_policy(const std::string& spec,
                                              const PolicyOptions& options);
std::unique_ptr<policies::Policy> make_policy(const std::string& spec);

// Whether `spec` is a remote policy URL (openpi:// or gr00t://).
bool is_remote_policy_spec(const std::string& spec);

}  // namespace harness
