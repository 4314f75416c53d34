#include "harness/camera_levels.h"

#include <cmath>
#include <stdexcept>

#include "envs/random.h"

namespace harness {

namespace {

constexpr double kRadPerDeg = M_PI / 180;

// Level k scales every bound by k/5 of level 5 (distance: 1 + k/5).
const std::array<CameraLevel, kMaxCameraLevel + 1>& level_table() {
  static const std::array<CameraLevel, kMaxCameraLevel + 1> table = [] {
    std::array<CameraLevel, kMaxCameraLevel + 1> levels;
    for (int k = 0; k <= kMaxCameraLevel; ++k) {
      const double f = double(k) / kMaxCameraLevel;
      CameraLevel& level = levels[k];
      level.level = k;
      level.azimuth_deg = 75 * f;
      level.elevation_deg = 15 * f;
      level.distance_scale = 1 + 1.0 * f;
      level.position_m = 0.10 * f;
      level.yaw_pitch_deg = 10 * f;
      level.roll_deg = 5 * f;
      level.fovy_deg = 5 * f;
    }
    return levels;
  }();
  return table;
}

}  // namespace

const CameraLevel& camera_level(int level) {
  if (level < 0 || level > kMaxCameraLevel) {
    throw std::runtime_error("camera level " + std::to_string(level) + " is out of range (0.." +
                             std::to_string(kMaxCameraLevel) + ")");
  }
  return level_table()[level];
}

CameraMode parse_camera_mode(const std::string& name) {
  if (name == "orbit") return CameraMode::kOrbit;
  if (name == "free") return CameraMode::kFree;
  throw std::runtime_error("unknown camera mode '" + name + "' (valid: orbit, free)");
}

std::string camera_mode_name(CameraMode mode) {
  return mode == CameraMode::kOrbit ? "orbit" : "free";
}

envs::CameraPerturbation draw_camera_level(int level, CameraMode mode, uint64_t episode_seed,
                                           const std::optional<std::array<double, 3>>& look_at) {
  const CameraLevel& bounds = camera_level(level);
  envs::Rng rng(envs::mix64(episode_seed ^ envs::hash_string("camera_level")));
  envs::CameraPerturbation perturbation;
  perturbation.level = level;
  perturbation.mode = camera_mode_name(mode);
  // Draw every value in both modes so that one stream order serves both.
  const double azimuth = envs::uniform(rng, -bounds.azimuth_deg, bounds.azimuth_deg) * kRadPerDeg;
  const double elevation = envs::uniform(rng, 0, bounds.elevation_deg) * kRadPerDeg;
  const double distance = envs::uniform(rng, 1, bounds.distance_scale);
  std::array<double, 3> position;
  for (double& v : position) v = envs::uniform(rng, -bounds.position_m, bounds.position_m);
  const double roll = envs::uniform(rng, -bounds.roll_deg, bounds.roll_deg) * kRadPerDeg;
  const double pitch = envs::uniform(rng, -bounds.yaw_pitch_deg, bounds.yaw_pitch_deg) * kRadPerDeg;
  const double yaw = envs::uniform(rng, -bounds.yaw_pitch_deg, bounds.yaw_pitch_deg) * kRadPerDeg;
  const double fovy = envs::uniform(rng, -bounds.fovy_deg, bounds.fovy_deg);
  if (level == 0) return perturbation;
  // Camera axes: x right (pitch: tilt up/down), y up (yaw: pan), z back (roll).
  perturbation.rotation_offset = {pitch, yaw, roll};
  perturbation.fovy_delta = fovy;
  if (mode == CameraMode::kOrbit) {
    perturbation.azimuth = azimuth;
    perturbation.elevation = elevation;
    perturbation.distance_scale = distance;
    if (look_at) perturbation.look_at = *look_at;
  } else {
    perturbation.position_offset = position;
  }
  return perturbation;
}

std::optional<std::array<double, 3>> known_look_at(const tasks::TaskDefinition& task,
                                                   const std::string& camera) {
  if (task.family != "libero" || camera != "agentview") return std::nullopt;
  // build_scene places the agentview with the default SceneSettings, shifted with the surface.
  const tasks::SceneSettings settings;
  const double shift = task.scene.table_top_z - settings.reference_surface_z;
  return std::array<double, 3>{settings.agentview_target[0], settings.agentview_target[1],
                               settings.agentview_target[2] + shift};
}

nlohmann::json camera_to_json(const envs::CameraPerturbation& camera) {
  nlohmann::json json = {{"position_offset", camera.position_offset},
                         {"rotation_offset", camera.rotation_offset},
                         {"fovy_delta", camera.fovy_delta}};
  if (camera.has_orbit()) {
    json["azimuth"] = camera.azimuth;
    json["elevation"] = camera.elevation;
    json["distance_scale"] = camera.distance_scale;
    json["look_at"] =
        std::isfinite(camera.look_at[0]) ? nlohmann::json(camera.look_at) : nlohmann::json();
  }
  if (camera.level >= 0) {
    json["level"] = camera.level;
    json["mode"] = camera.mode;
  }
  return json;
}

envs::CameraPerturbation camera_from_json(const nlohmann::json& json) {
  envs::CameraPerturbation camera;
  camera.position_offset = json.at("position_offset").get<std::array<double, 3>>();
  camera.rotation_offset = json.at("rotation_offset").get<std::array<double, 3>>();
  camera.fovy_delta = json.at("fovy_delta").get<double>();
  camera.azimuth = json.value("azimuth", 0.0);
  camera.elevation = json.value("elevation", 0.0);
  camera.distance_scale = json.value("distance_scale", 1.0);
  if (json.contains("look_at") && json["look_at"].is_array()) {
    camera.look_at = json["look_at"].get<std::array<double, 3>>();
  }
  camera.level = json.value("level", -1);
  camera.mode = json.value("mode", std::string());
  return camera;
}

}  // namespace harness
