// Demonstrations: a policy (by default the scripted expert) runs LIBERO-style
// tasks from freshly sampled initial states (disjoint from the stored
// evaluation states) and its successful episodes are written in the
// LIBERO/robomimic HDF5 layout:
//   data                      attrs env_args, problem_info (JSON), total, num_demos,
//                             macros_image_convention ("opencv": top row first)
//   data/demo_<i>/obs/agentview_rgb, eye_in_hand_rgb   (T, H, W, 3) uint8
//   data/demo_<i>/obs/ee_pos (T, 3), ee_ori (T, 3 axis-angle), gripper_states (T, 2),
//                  joint_states (T, 7)                  float64
//   data/demo_<i>/actions (T, 7) float64, dones (T) uint8, rewards (T) uint8,
//                 states (T, nq + nv) float64 (MuJoCo qpos and qvel)
//   data/demo_<i>             attrs num_samples, init_state (nq float64), task_id,
//                             task_key, language_instruction, init_state_seed, seed, camera
// Observation t is what the policy saw before action t; dones and rewards are
// 1 at the last step (the step whose result reached the goal) only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "envs/render.h"

namespace CLI {
class App;
}

namespace harness {

struct DemoSettings {
  std::string suite;                     // LIBERO-style suite name (e.g. libero_object)
  std::vector<int> task_ids;             // empty: every task of the suite
  std::string policy = "scripted";       // policy spec (see make_policy)
  int episodes_per_task = 50;            // successful demonstrations wanted per task
  int max_attempts = 0;                  // episodes tried per task at most; 0: 2 * episodes_per_task + 10
  uint64_t seed = 1;                     // sampling seed of the initial states; must differ from the stored states'
  std::string out = "demos.hdf5";        // HDF5 file (replaced when complete)
  int image_size = 128;                  // px, square images of both cameras
  int camera_level = -1;                 // 0..5: agentview drawn per episode from this camera level; -1: none
  std::string camera_mode = "orbit";     // with camera_level: "orbit" or "free"
  int compression = 4;                   // gzip level of the image datasets (0: none)
  envs::RenderSettings render;           // GL backend, shadows (size set from image_size)
  bool quiet = false;                    // no per-episode lines on stderr
};

// What one task contributed.
struct DemoTaskStats {
  std::string task_key;        // "libero_object/0"
  int demos = 0;               // successful episodes written
  int attempts = 0;            // episodes run
  int stored_state_clashes = 0;  // sampled states equal to a stored evaluation state (skipped)
  long steps = 0;              // control steps written (policy steps of the written demos)
};

struct DemoStats {
  std::vector<DemoTaskStats> tasks;
  int demos = 0;               // over all tasks
  long samples = 0;            // total steps written ("total" attribute)
  double wall_time_s = 0;
};

// Runs the episodes and writes settings.out (through a ".partial" file renamed
// at the end). Throws std::runtime_error naming the flag or file for bad input:
// a suite that is not LIBERO-style, a seed equal to the stored states' seed,
// an unwritable file. A task that reaches fewer than episodes_per_task
// successes within max_attempts keeps the ones it reached (see its stats).
DemoStats record_demos(const DemoSettings& settings);

// The "demos" subcommand: vla-harness demos --suite S --policy scripted
// --episodes-per-task N --out demos.hdf5 [--tasks ..] [--image-size 128] [--camera-level L].
void add_demos_command(CLI::App& app);

}  // namespace harness
