// The plan of a run: suite x task x initial state x camera perturbation, each
// episode with a stable id and a seed derived from it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "envs/types.h"
#include "tasks/suite.h"

namespace harness {

struct EpisodeSpec {
  std::string episode_id;       // "libero_spatial/0/3": suite/task/init state
  std::string suite;
  int task_id = 0;
  int init_state = 0;           // index of the stored initial state
  uint64_t seed = 0;            // derived from the run seed and episode_id
  std::map<std::string, envs::CameraPerturbation> cameras;  // per-episode camera perturbation
  std::shared_ptr<const tasks::TaskDefinition> task;
};

struct PlanSettings {
  std::vector<std::string> suites = {"libero_spatial"};
  std::vector<int> task_ids;              // empty: every task of each suite
  int episodes_per_task = 0;              // 0: the suite protocol's count
  uint64_t seed = 7;                      // run seed
  envs::CameraRandomization camera;       // applied to "agentview" when non-zero
  int camera_level = -1;                  // 0..5: agentview drawn from this camera level; -1: none
  std::string camera_mode = "orbit";      // with camera_level: "orbit" or "free"
  int replan_steps = 0;                   // actions executed per chunk; 0: the policy's own
  int image_size = 0;                     // rendered camera size in px; 0: the policy's
  int shard_index = 0;                    // this process runs episodes with index % count == index
  int shard_count = 1;                    // slices the plan is cut into (--shard K/N)
};

// "K/N" -> shard_index K, shard_count N. Throws std::runtime_error naming `flag`
// unless 0 <= K < N.
void parse_shard(const std::string& text, PlanSettings* settings, const std::string& flag = "--shard");

// Suite names with families expanded: "libero" stands for every suite of the
// libero family, in registry order; other names pass through unchanged.
std::vector<std::string> expand_suites(const std::vector<std::string>& names);

// Builds the plan (suites expanded as above); loads each task once. Throws std::runtime_error for unknown
// suites or task ids (listing the valid ones) and for more episodes per task
// than stored initial states.
std::vector<EpisodeSpec> make_plan(const PlanSettings& settings);

// The record of a run's plan, kept in its context block as "plan": the settings
// that make it ("policy", "suites", "tasks", "episodes_per_task", "seed",
// "camera", "shard" as "K/N"; "replan_steps" and "image_size" only when set,
// so records written before they existed still match), "episodes" (how many
// the whole plan has), "plan_id" (a hash over those settings but the shard, the
// whole plan's ordered episode ids with their camera perturbations, and every
// task's protocol and instruction: equal for every shard of one plan) and
// "fingerprint" (plan_id and shard). `policy_spec` should have its credentials removed.
// `whole_plan`, if given, is make_plan(settings) without the shard (saves building it twice).
nlohmann::json describe_plan(const PlanSettings& settings, const std::string& policy_spec,
                             const std::vector<EpisodeSpec>* whole_plan = nullptr);

// One way two plan records differ: the setting's name and its value in each.
struct PlanDifference {
  std::string field;            // "policy", "suites", "tasks", "episodes_per_task", "seed", "camera",
                                // "replan_steps", "image_size", "shard", "episodes"
  std::string first, second;    // the values, as text
};

// How two plan records (see describe_plan) differ; empty if they are the same
// plan. With `ignore_shard`, shards of one plan count as the same plan.
std::vector<PlanDifference> plan_differences(const nlohmann::json& first, const nlohmann::json& second,
                                             bool ignore_shard = false);

// The settings a plan record was made from (shard included), for rebuilding it.
PlanSettings plan_settings_from(const nlohmann::json& record);

// The camera perturbation of one episode, drawn from its own seed.
envs::CameraPerturbation draw_camera_perturbation(const envs::CameraRandomization& randomization,
                                                  uint64_t episode_seed);

}  // namespace harness
