// Initial states: sampled from the task's regions with a seed, settled by
// physics, stored as data so that benchmarks do not drift with code changes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "envs/env.h"
#include "tasks/suite.h"

namespace tasks {

struct InitStateSettings {
  int count = 50;               // states per task
  uint64_t seed = 0;            // sampling seed; state i uses derive_seed(seed, key, i)
  int settle_steps = 20;        // control steps (20 Hz) of physics with the robot still
  int max_tries = 2000;         // placement attempts per object before giving up
  double clearance = 0.005;     // m between objects' bounding circles
};

// Samples one state (qpos) for task `task` into `env` (built from task.scene).
std::vector<double> sample_init_state(const TaskDefinition& task, envs::Env& env,
                                      uint64_t state_seed, const InitStateSettings& settings);

// Samples and settles `settings.count` states.
std::vector<std::vector<double>> make_init_states(const TaskDefinition& task,
                                                  const InitStateSettings& settings);

// A signature of the model layout (joint names and qpos sizes); stored with the
// states so that a changed scene is detected instead of silently misused.
std::string model_signature(const mjModel* model);

void save_init_states(const std::string& path, const TaskDefinition& task, const mjModel* model,
                      const std::vector<std::vector<double>>& states, uint64_t seed);
// Throws std::runtime_error naming the file if unreadable, malformed, or made
// for a different model layout.
std::vector<std::vector<double>> load_init_states(const std::string& path, const mjModel* model);

// The robot's initial joint positions written into `qpos` (arm at LIBERO's
// init posture, gripper open).
void set_robot_init_qpos(const mjModel* model, double* qpos);

}  // namespace tasks
