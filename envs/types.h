// Core value types shared by envs, tasks, policies and the harness.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace envs {

// An RGB image, row-major, top row first (uint8, height x width x 3).
struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // width * height * 3 bytes
};

// Position and orientation in the world frame.
struct Pose {
  std::array<double, 3> position{};            // m
  std::array<double, 4> quaternion{1, 0, 0, 0};  // w, x, y, z
};

// One control step's command in the LIBERO convention: delta position (3),
// delta axis-angle rotation (3), gripper (-1 open, +1 close). Values in [-1, 1]
// are scaled by the controller (0.05 m and 0.5 rad per step at 1.0).
using Action = std::array<float, 7>;

// What a policy sees after reset and after each step.
struct Observation {
  std::map<std::string, Image> images;  // by camera name
  std::vector<float> proprio;           // eef pos (3), eef axis-angle (3), finger joints (2)
  std::string instruction;              // the task's language instruction
  int step = 0;                         // control steps since reset
  // Privileged simulator state for scripted experts only (object poses by
  // object name, plus "eef"); never sent to learned or remote policies.
  std::map<std::string, Pose> privileged;
  // Privileged scalars by name (joint positions and goals, sizes; m or rad).
  std::map<std::string, double> privileged_values;
  // Privileged: the scripted expert's current sub-task of the task's plan
  // ("pick_place", "open_drawer", ...; "" when there is none) and its index.
  std::string skill;
  int skill_index = -1;
};

// A camera's pose change for one episode, drawn from a CameraRandomization
// or a camera level. The orbit (azimuth, elevation, distance) is applied
// first, then the position and rotation offsets and the fovy change.
struct CameraPerturbation {
  std::array<double, 3> position_offset{};  // m, world frame
  std::array<double, 3> rotation_offset{};  // rad, roll/pitch/yaw about the camera's own axes
  double fovy_delta = 0;                    // degrees
  // Orbit: the camera moves on a sphere about its look-at point and keeps looking at it.
  double azimuth = 0;                       // rad, about the vertical through the look-at point
  double elevation = 0;                     // rad, camera raised (negative: lowered) on the sphere
  double distance_scale = 1;                // factor on the camera to look-at distance
  // m, world frame: the point the orbit turns about; NaN: where the camera's
  // optical axis meets the static scene (the table) at reset.
  std::array<double, 3> look_at{std::numeric_limits<double>::quiet_NaN(),
                                std::numeric_limits<double>::quiet_NaN(),
                                std::numeric_limits<double>::quiet_NaN()};
  int level = -1;                           // camera level it was drawn from; -1: custom values
  std::string mode;                         // "orbit" or "free" for a level; "": custom values
  bool has_orbit() const { return azimuth != 0 || elevation != 0 || distance_scale != 1; }
};

// How to draw a CameraPerturbation per episode (uniform in +/- each bound).
struct CameraRandomization {
  double position = 0;  // m, per axis
  double rotation = 0;  // rad, per axis
  double fovy = 0;      // degrees
};

}  // namespace envs
