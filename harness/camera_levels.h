// Camera pose randomization as a sweep axis: levels 0..5 of growing
// magnitude, drawn per episode in one of two modes. "orbit" moves the camera
// on a sphere about its look-at point (azimuth, elevation, distance) and still
// looks at it; "free" offsets its position and orientation. Both add a small
// extra yaw/pitch/roll and a field-of-view change. Level 5 matches the hardest
// camera variants of LIBERO-Plus (azimuth +/-75 deg, elevation 0-15 deg,
// distance x1-2, extra yaw/pitch +/-10 deg).
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "envs/types.h"
#include "tasks/suite.h"

namespace harness {

inline constexpr int kMaxCameraLevel = 5;

// The bounds of one level; each draw is uniform within them.
struct CameraLevel {
  int level = 0;
  double azimuth_deg = 0;     // orbit: +/- deg about the vertical through the look-at point
  double elevation_deg = 0;   // orbit: 0 .. +deg, the camera raised on its sphere
  double distance_scale = 1;  // orbit: camera to look-at distance x 1 .. this
  double position_m = 0;      // free: +/- m per world axis
  double yaw_pitch_deg = 0;   // both: +/- deg about the camera's own vertical and horizontal axes
  double roll_deg = 0;        // both: +/- deg about the optical axis
  double fovy_deg = 0;        // both: +/- deg of vertical field of view
};

enum class CameraMode { kOrbit, kFree };

// The level table (throws std::runtime_error naming the valid range for other levels).
const CameraLevel& camera_level(int level);
// "orbit" / "free"; throws std::runtime_error naming the valid values.
CameraMode parse_camera_mode(const std::string& name);
std::string camera_mode_name(CameraMode mode);

// One episode's perturbation at `level` in `mode`, from the episode's seed
// (same seed, same draw); records level and mode. `look_at` is the orbit's
// pivot (unset: the env finds where the optical axis meets the static scene).
envs::CameraPerturbation draw_camera_level(
    int level, CameraMode mode, uint64_t episode_seed,
    const std::optional<std::array<double, 3>>& look_at = {});

// The point a task's camera looks at when the scene defines it (LIBERO-style
// agentview: the scene's agentview target, shifted with the surface height);
// none otherwise (the env then intersects the optical axis with the table).
std::optional<std::array<double, 3>> known_look_at(const tasks::TaskDefinition& task,
                                                   const std::string& camera);

// A perturbation as recorded in episodes.jsonl: offsets, fovy change, orbit
// (azimuth, elevation in rad; distance_scale; look_at or null) and, when drawn
// from a level, "level" and "mode". Reading accepts records without the orbit
// fields (earlier runs).
nlohmann::json camera_to_json(const envs::CameraPerturbation& camera);
envs::CameraPerturbation camera_from_json(const nlohmann::json& json);

}  // namespace harness
