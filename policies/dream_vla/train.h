// `vla-harness train`: trains a Dream-VLA checkpoint on demonstrations with
// the flow-matching objective of the released code and writes it in the
// layout DreamVlaModel::load and the dream-vla policy read (config.json,
// model.safetensors, tokenizer.json, preprocessor_config.json,
// dataset_statistics.json). Training state (optimizer moments, step, loss
// log) lives in <out>/train_state/; rerunning the command resumes.
// Free of libtorch.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "policies/dream_vla/postprocess.h"

namespace CLI {
class App;
}

namespace policies::dream_vla {

struct TrainSettings {
  std::vector<std::string> demos;  // HDF5 files from `vla-harness demos`
  std::string config = "tiny";     // named model configuration (config.h named_config)
  std::string out;                 // checkpoint directory
  int64_t steps = 20000;           // optimizer steps in total (a resumed run continues to this)
  int batch_size = 32;             // samples per step
  double lr = 3e-4;                // peak AdamW learning rate
  double weight_decay = 0.01;      // AdamW weight decay
  int64_t warmup_steps = 500;      // linear warm-up; then cosine to lr / 10 at `steps`
  double grad_clip = 1.0;          // global gradient norm bound (0: none)
  uint64_t seed = 0;               // initial weights, sample order, augmentation, noise, time
  int image_size = 112;            // model input side, px (multiple of 28)
  int max_demos_per_task = 0;      // 0: every demo of the files
  int frame_stride = 1;            // anchor every k-th step of each demo
  bool augment = true;             // random 0.9-area crop + colour jitter
  int64_t checkpoint_every = 500;  // steps between checkpoints (and at the end)
  int64_t until_step = 0;          // > 0: stop (with a checkpoint) at this step; the schedule still spans `steps`
  double time_limit_s = 0;         // > 0: stop (with a checkpoint) after this much wall time
  int64_t log_every = 50;          // steps between progress lines
  std::string device = "cpu";      // cpu, cuda, cuda:N
  int threads = 0;                 // intra-op threads; 0: every core
  bool quiet = false;              // no progress lines
};

struct TrainResult {
  int64_t start_step = 0;  // 0, or the step a resume started from
  int64_t steps = 0;       // step reached
  double last_loss = 0;    // mean loss of the last logged window
  double wall_time_s = 0;  // this invocation
  int64_t parameters = 0;  // trainable values
};

// Trains (or resumes) as `settings` say. Throws std::runtime_error naming the
// flag, file or mismatch for bad input (no demos, unknown config, an image size
// that is not a multiple of 28, an existing run with other settings).
TrainResult train(const TrainSettings& settings);

// The training target of one env action (7-D, gripper -1 open / +1 close):
// dims 0-5 to [-1, 1] with q01/q99 (clipped), the gripper to the dataset
// convention 1 open / 0 closed (unnormalized). postprocess_actions with the
// LIBERO gripper rule inverts it.
void normalize_training_action(std::span<const float> action, const NormStats& stats,
                               std::span<float> out);

// Registers `vla-harness train`.
void add_train_command(CLI::App& app);

}  // namespace policies::dream_vla
