// Initial states: sampled from the task's regions with a seed, settled by
// physics, verified (settled, goal not yet reached) and stored as data so that
// benchmarks do not drift with code changes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "envs/env.h"
#include "tasks/suite.h"

namespace tasks {

struct InitStateSettings {
  int count = 50;              // states per task
  uint64_t seed = 0;           // sampling seed; state i uses derive_seed(seed, key/i, "init_state")
  int settle_steps = 20;       // control steps (20 Hz) of physics with the robot still
  int verify_steps = 20;       // further control steps over which nothing may move
  double max_drift = 0.01;     // m, how far a free object may move over the verify steps
  int max_tries = 2000;        // placement attempts per object before redrawing the sample
  int max_samples = 50;        // samples per state before giving up on the task
  double clearance = 0.005;    // m between objects' bounding circles
  double drawer_open = -0.16;  // m, slide qpos of a drawer that starts open
  double door_open = -1.6;     // rad, hinge qpos of a door that starts open
  double knob_on = 1.0;        // rad, knob qpos of a stove that starts on
  double knob_off = -0.25;     // rad, knob qpos of a stove that starts (explicitly) off
};

// One verified state and the samples drawn before it that failed a check.
struct InitStateSample {
  std::vector<double> qpos;          // model nq values
  int rejected = 0;                  // samples rejected before this one
  std::vector<std::string> reasons;  // why each rejected sample failed
};

// Samples states for `task` into `env` (built from task.scene) from the stream
// seeded by `state_seed` until one is verified: placed without overlap,
// settled, every free object still (< max_drift over verify_steps) and the
// task's goal false. The result is a function of the seed alone. Throws
// std::runtime_error naming the task if max_samples samples all fail.
InitStateSample sample_init_state(const TaskDefinition& task, envs::Env& env, uint64_t state_seed,
                                  const InitStateSettings& settings);

struct InitStates {
  std::vector<std::vector<double>> states;
  int rejected = 0;                    // samples rejected over all states
  std::map<std::string, int> reasons;  // rejection reason -> count
};

// Samples, settles and verifies `settings.count` states.
InitStates make_init_states(const TaskDefinition& task, const InitStateSettings& settings);

// How far (m) each free object moves over `steps` control steps from `qpos`
// with the robot holding still; the largest distance and its object.
struct Drift {
  double distance = 0;  // m
  std::string object;
};
Drift measure_drift(const TaskDefinition& task, envs::Env& env, const std::vector<double>& qpos,
                    int steps);

// True if the task's goal holds at `qpos` (one forward pass).
bool goal_holds_at(const TaskDefinition& task, const mjModel* model, mjData* data,
                   const std::vector<double>& qpos);

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
