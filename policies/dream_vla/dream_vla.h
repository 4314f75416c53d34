// Entry points of the embedded Dream-VLA that the harness uses. This header
// must stay free of libtorch includes (the harness and envs include it).
#pragma once

#include <memory>
#include <string>

#include "policies/policy.h"

namespace CLI {
class App;
}

namespace policies::dream_vla {

// Builds the embedded policy from a policy argument "PATH[,key=value...]"
// (PATH: a checkpoint directory). Throws std::runtime_error naming the problem.
std::unique_ptr<Policy> make_policy(const std::string& argument);

// Registers `dream-vla init|forward|tokenize` under `app`.
void add_cli_commands(CLI::App& app);

}  // namespace policies::dream_vla
