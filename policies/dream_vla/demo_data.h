// Demonstrations for training, read from `vla-harness demos` HDF5 files (the
// LIBERO/robomimic layout): per demo both camera images, the 8-D proprio
// state (ee_pos, ee_ori, gripper_states, as the envs report it), the 7-D
// actions and the instruction. Free of libtorch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace policies::dream_vla {

struct Demo {
  std::string task_key;      // "libero_object/3"
  std::string instruction;   // language_instruction
  int steps = 0;             // T
  int image_stride = 1;              // images kept for steps 0, k, 2k, ... only
  std::vector<uint8_t> agentview;    // (ceil(T / k), S, S, 3), top row first
  std::vector<uint8_t> eye_in_hand;  // (ceil(T / k), S, S, 3)
  std::vector<float> proprio;        // (T, 8)
  std::vector<float> actions;        // (T, 7) in the env convention (gripper -1 open, +1 close)
};

struct DemoSet {
  std::vector<Demo> demos;
  int image_size = 0;          // S, equal in every file
  std::vector<std::string> files;
  int64_t transitions() const;
};

// Reads every demo of `files` (at most `max_per_task` per task_key; 0: all),
// keeping the images of every `image_stride`-th step (memory) and every
// step's proprio and actions.
// Throws std::runtime_error naming the file and what is wrong (not HDF5, no
// data group, missing dataset, inconsistent shapes or image sizes).
DemoSet read_demos(const std::vector<std::string>& files, int max_per_task = 0,
                   int image_stride = 1);

}  // namespace policies::dream_vla
