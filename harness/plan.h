// The plan of a run: suite x task x initial state x camera perturbation, each
// episode with a stable id and a seed derived from it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

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
  int shard_index = 0;                    // this process runs episodes with index % count == index
  int shard_count = 1;
};

// Suite names with families expanded: "libero" stands for every suite of the
// libero family, in registry order; other names pass through unchanged.
std::vector<std::string> expand_suites(const std::vector<std::string>& names);

// Builds the plan (suites expanded as above); loads each task once. Throws std::runtime_error for unknown
// suites or task ids (listing the valid ones) and for more episodes per task
// than stored initial states.
std::vector<EpisodeSpec> make_plan(const PlanSettings& settings);

// The camera perturbation of one episode, drawn from its own seed.
envs::CameraPerturbation draw_camera_perturbation(const envs::CameraRandomization& randomization,
                                                  uint64_t episode_seed);

}  // namespace harness
