// The SimplerEnv-style "Fractal" scene (Google robot in front of a kitchen
// counter, RT-1 data): floor, walls, the counter, lights, the robot's
// overhead (head) camera and the robot, in one of the visual variants of
// SimplerEnv's variant aggregation; plus the objects the Fractal tasks use.
//
// World frame as SimplerEnv's: the floor is z = 0, the counter top is at
// kFractalTableHeight, the robot stands at +x facing -x (default base pose
// (0.35, 0.20), yaw pi) and the work area lies at x in [-0.40, -0.05].
#pragma once

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "envs/google_robot.h"

namespace tasks::simpler {

inline constexpr double kFractalTableHeight = 0.87;  // m, counter top above the floor
// The counter: x from kFractalTableFront back by kFractalTableDepth, y within
// +/- kFractalTableHalfWidth of kFractalTableCenterY (m).
inline constexpr double kFractalTableFront = 0.0;
inline constexpr double kFractalTableDepth = 0.75;
inline constexpr double kFractalTableCenterY = 0.2;
inline constexpr double kFractalTableHalfWidth = 0.8;

// The overhead camera "overhead_camera": 640 x 512 pixels, fx = fy = 425 px.
inline constexpr int kFractalImageWidth = 640;
inline constexpr int kFractalImageHeight = 512;
inline constexpr double kFractalFocalLength = 425;  // px
double fractal_camera_fovy();                       // degrees: 2 atan(256 / 425)

// Visual variants: "" (nominal, the visual-matching scene), "background_1",
// "background_2" (other wall and floor finishes), "lighting_darker",
// "lighting_brighter", "distractors" (four extra objects on the counter, placed
// per episode by the task environment), "table_texture_1", "table_texture_2"
// (other counter tops). Nominal first.
const std::vector<std::string>& fractal_scene_variants();
bool is_fractal_scene_variant(const std::string& variant);

struct FractalSceneSettings {
  std::string variant;             // one of fractal_scene_variants()
  envs::GoogleRobotSettings robot;  // prefix and base pose (floor level)
  bool table = true;  // the counter; without it "distractors" and "table_texture_*" are refused
  // Extra MJCF from the caller, spliced into the matching sections.
  std::string defaults;    // inside the top <default>
  std::string assets;      // inside <asset>
  std::string worldbody;   // inside <worldbody>
  std::string contacts;    // inside <contact>
  std::string equalities;  // inside <equality>
};

// A complete MJCF document (compiler angle="radian", 2 ms timestep). Throws
// std::runtime_error naming the variant if it is unknown (or needs the counter
// and settings.table is false).
std::string fractal_scene_mjcf(const FractalSceneSettings& settings);

// ---------------------------------------------------------------------------
// Objects of the Fractal tasks (SimplerEnv's Google-robot object set, built
// from primitives with the real objects' sizes and masses).

struct FractalObjectInfo {
  std::string kind;                // e.g. "coke_can"
  std::string instruction_name;    // as instructions say it, e.g. "coke can"
  std::array<double, 3> size{};    // m, bounding box extents in the object's own frame
  double mass = 0;                 // kg
  // Rest pose: the rotation (w, x, y, z) SimplerEnv's layouts give the object
  // ("upright" for cans), and its centre's height above the surface there (m).
  std::array<double, 4> rest_quat{1, 0, 0, 0};
  double rest_height = 0;
};

// Kinds: coke_can (unopened, full), opened_coke_can, opened_pepsi_can,
// opened_7up_can, opened_redbull_can, blue_plastic_bottle, apple, orange,
// sponge. Cans and the bottle are built with their axis along the object's
// z axis; the sponge is a box (long side along x).
const std::vector<std::string>& fractal_object_kinds();
// Throws std::runtime_error listing the kinds if `kind` is unknown.
const FractalObjectInfo& fractal_object_info(const std::string& kind);

// One free body `name` (free joint "<name>_joint") of `kind` at `position`
// (world, m) with rotation `quat` (w, x, y, z). Collision geoms are group 3
// (condim 4), visual geoms group 1, no assets needed.
std::string fractal_object_body(const std::string& kind, const std::string& name,
                                const std::array<double, 3>& position,
                                const std::array<double, 4>& quat = {1, 0, 0, 0});

// The extra objects of the "distractors" variant: (body name, kind) pairs.
// fractal_scene_mjcf adds them parked on the floor behind the robot; the task
// environment places them on the counter per episode.
const std::vector<std::pair<std::string, std::string>>& fractal_distractors();

}  // namespace tasks::simpler
