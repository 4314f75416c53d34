#include "harness/registry.h"

#include <stdexcept>

#include "policies/baselines.h"
#include "policies/remote/probe_policy.h"
#include "policies/remote/remote_policy.h"
#include "policies/scripted/scripted.h"
#ifdef VLA_WITH_TORCH
#include "policies/dream_vla/dream_vla.h"
#endif

namespace harness {

std::vector<std::pair<std::string, std::string>> policy_names() {
  std::vector<std::pair<std::string, std::string>> names = {
      {"scripted", "privileged scripted expert (reads object poses; pick-and-place goals)"},
      {"zero", "no-op baseline: holds still with the gripper open"},
      {"probe", "deterministic check policy: actions depend on both images, proprio and prompt"},
      {"openpi://HOST:PORT[?api_key=K]", "remote openpi websocket policy server"},
      {"gr00t://HOST:PORT[?api_token=T]", "remote GR00T ZeroMQ inference service"},
  };
#ifdef VLA_WITH_TORCH
  names.push_back({"dream-vla:PATH", "embedded Dream-VLA (libtorch) from a checkpoint directory"});
#endif
  return names;
}

std::unique_ptr<policies::Policy> make_policy(const std::string& spec) {
  return make_policy(spec, PolicyOptions{});
}

bool is_remote_policy_spec(const std::string& spec) { return policies::remote::is_remote_spec(spec); }

std::unique_ptr<policies::Policy> make_policy(const std::string& spec,
                                              const PolicyOptions& options) {
  if (policies::remote::is_remote_spec(spec)) {
    return policies::remote::make_remote_policy(spec, options.family, options.replan_steps);
  }
  const auto colon = spec.find(':');
  const std::string name = spec.substr(0, colon);
  const std::string argument = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (name == "scripted" && argument.empty()) return std::make_unique<policies::scripted::ScriptedExpert>();
  if (name == "zero" && argument.empty()) return std::make_unique<policies::ZeroPolicy>();
  if (name == "probe" && argument.empty()) return std::make_unique<policies::remote::ProbePolicy>();
#ifdef VLA_WITH_TORCH
  if (name == "dream-vla") {
    if (argument.empty()) throw std::runtime_error("policy dream-vla needs a checkpoint: dream-vla:PATH");
    return policies::dream_vla::make_policy(argument);
  }
#endif
  std::string valid;
  for (const auto& [known, description] : policy_names()) valid += "\n  " + known + "  " + description;
  throw std::runtime_error("unknown policy '" + spec + "'; valid policies:" + valid);
}

}  // namespace harness
