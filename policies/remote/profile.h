// Mapping profiles of remote policies: which harness observation parts go under
// which wire keys (images, state slices, prompt) and which reply keys fill which
// action dimensions. One JSON file per protocol and task family
// (policies/profiles/*.json); the clients hold no per-family code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "envs/types.h"
#include "policies/openpi_codec.h"
#include "policies/policy.h"

namespace policies::remote {

// One camera image sent as a uint8 array of shape leading_dims + (height, width, 3).
struct ImageField {
  std::string key;                    // wire key, e.g. "observation/image", "video.ego_view"
  std::string camera;                 // harness camera name, e.g. "agentview"
  int width = 224;                    // px sent
  int height = 224;                   // px sent
  bool pad = true;                    // keep aspect ratio and pad with black; false: stretch
  bool rotate_180 = false;            // reverse rows and columns before resizing
  std::vector<int64_t> leading_dims;  // e.g. [1] for GR00T's time axis
};

// A slice of the proprio sent as a float array of shape leading_dims + (size,).
struct StateField {
  std::string key;                    // wire key, e.g. "observation/state", "state.eef_position"
  int offset = 0;                     // first proprio index
  int size = 8;                       // proprio values
  std::string dtype = "<f4";          // "<f4" or "<f8"
  std::vector<int64_t> leading_dims;  // e.g. [1] for GR00T's time axis
};

// One reply array of shape (horizon, size) filling action dimensions
// [offset, offset + size) as value * scale + shift.
struct ActionField {
  std::string key;           // reply key, e.g. "actions", "action.eef_position_delta"
  int offset = 0;            // first envs::Action index filled
  int size = 7;              // columns of the reply array
  std::vector<float> scale;  // per column; empty: 1
  std::vector<float> shift;  // per column; empty: 0
};

struct Profile {
  std::string name;      // e.g. "openpi_libero"
  std::string protocol;  // "openpi" or "gr00t"
  std::string family;    // task family: "libero", "bridge" or "fractal"
  std::string path;      // file it was read from
  std::vector<ImageField> images;
  std::vector<StateField> state;
  std::string prompt_key;            // wire key of the instruction
  bool prompt_as_list = false;       // send [instruction] instead of instruction (GR00T)
  std::vector<ActionField> actions;  // together they fill all 7 action dimensions exactly once
  int render_size = 224;             // square camera size the harness renders, px (families may
                                     // override with their native size)
  int replan_steps = 5;              // actions executed per chunk before the next query
  std::string action_space = "libero_delta_eef_7d";
};

// Reads and checks a profile. Throws std::runtime_error naming the file and the
// problem (unknown key, missing field, bad size, action dimensions not covered once).
Profile load_profile(const std::string& path);

// The directory of the shipped profiles ($VLA_PROFILES_DIR, else policies/profiles).
std::string profiles_directory();

// "NAME" -> profiles_directory()/NAME.json; a value containing '/' or ending in
// ".json" is a path. Throws std::runtime_error listing the shipped profiles if absent.
Profile find_profile(const std::string& name_or_path);

// Builds wire requests from observations with reused image buffers.
class ObservationEncoder {
 public:
  explicit ObservationEncoder(const Profile& profile) : profile_(profile) {}
  // The request map: images, state slices and prompt as the profile names them.
  // Throws std::runtime_error naming the camera or state slice that is missing.
  openpi::Value encode(const envs::Observation& observation);

 private:
  const Profile& profile_;
  envs::Image rotated_;  // scratch for rotate_180
  envs::Image resized_;  // scratch for the resize
};

// Reads a reply's action arrays into one chunk. Every array must be a numeric
// (horizon, size) array with the same horizon >= 1 and only finite values;
// otherwise throws std::runtime_error naming the key and what is wrong.
ActionChunk decode_action_chunk(const Profile& profile, const openpi::Value& reply);

// openpi's resize_with_pad: scale to fit width x height keeping the aspect
// ratio (bilinear), centre, fill the rest with black. Same size: a copy.
void resize_with_pad(const envs::Image& image, int width, int height, envs::Image& out);
// Bilinear resize to exactly width x height.
void resize_bilinear(const envs::Image& image, int width, int height, envs::Image& out);

}  // namespace policies::remote
