// A MuJoCo environment with one arm: reset from a stored state, step with 7-D
// delta end-effector actions (the Panda's operational-space controller at
// 20 Hz, or inverse kinematics for position-controlled arms), render cameras.
#pragma once

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <mujoco/mujoco.h>

#include "envs/controller.h"
#include "envs/ik_controller.h"
#include "envs/render.h"
#include "envs/types.h"

namespace envs {

// How actions become actuator commands.
enum class ArmControl {
  kOsc,  // torque-controlled Panda, operational-space controller (LIBERO)
  kIk,   // position-controlled arm, inverse kinematics (WidowX, Google robot)
};

struct EnvSettings {
  RenderSettings render;                 // image size, shadows, backend
  std::vector<std::string> cameras = {"agentview", "eye_in_hand"};  // rendered per step; empty: none
  int substeps = 25;                     // physics steps of 2 ms per control step (20 Hz)
  ArmControl control = ArmControl::kOsc;
  OscSettings controller;                // operational-space controller gains and scales (kOsc)
  IkSettings ik;                         // inverse-kinematics controller settings (kIk)
  // Observation camera name -> MuJoCo camera name (e.g. "agentview" -> "3rd_view_camera").
  std::map<std::string, std::string> camera_aliases;
  std::string robot_prefix = "robot0_";  // prefix of the robot's element names
};

// Simulator state to reset to, plus per-episode camera perturbations.
struct ResetSpec {
  std::vector<double> qpos;                               // model nq values; empty: model's qpos0
  std::vector<double> qvel;                               // model nv values; empty: zeros
  std::map<std::string, CameraPerturbation> cameras;      // by camera name
  std::string instruction;
};

// Thrown when the simulation becomes invalid (NaN, divergence, MuJoCo warning).
class SimulationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Env {
 public:
  // Compiles `mjcf` (an MJCF document). Throws std::runtime_error with MuJoCo's
  // message if it does not compile. Rendering resources are created lazily on
  // the thread that first renders.
  Env(const std::string& mjcf, EnvSettings settings);
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  const Observation& reset(const ResetSpec& spec);
  // One control step: sets the controller goal, runs `substeps` physics steps,
  // renders. Throws SimulationError if the physics became invalid.
  const Observation& step(const Action& action);

  // Renders one camera (by observation name or MuJoCo camera name).
  void render(const std::string& camera, Image* out);

  const mjModel* model() const { return model_.get(); }
  const mjData* data() const { return data_.get(); }
  mjData* mutable_data() { return data_.get(); }
  Observation& observation() { return observation_; }
  const EnvSettings& settings() const { return settings_; }

  // Bodies whose world poses are reported in Observation::privileged.
  void track_bodies(const std::vector<std::string>& body_names);
  // MuJoCo camera id for an observation camera name (an alias in
  // settings.camera_aliases first; "eye_in_hand" resolves to
  // "<prefix>eye_in_hand"); -1 if absent.
  int camera_id(const std::string& name) const;
  // Recomputes the observation from the current state (no physics step).
  const Observation& observe();

 private:
  void check_state();
  void fill_proprio();

  EnvSettings settings_;
  std::unique_ptr<mjModel, decltype(&mj_deleteModel)> model_;
  std::unique_ptr<mjData, decltype(&mj_deleteData)> data_;
  std::unique_ptr<ArmController> controller_;
  std::unique_ptr<Renderer> renderer_;
  Observation observation_;
  int grip_site_ = -1;
  int finger_qpos_[2] = {-1, -1};
  std::vector<int> camera_ids_;                // per settings_.cameras
  std::vector<std::pair<std::string, int>> tracked_bodies_;
  // Unperturbed camera poses, restored at each reset.
  std::vector<double> camera_pos0_, camera_quat0_, camera_fovy0_;
};

// Loads an MJCF string into a model (through MuJoCo's virtual file system).
// Throws std::runtime_error with MuJoCo's error message.
mjModel* load_model_from_string(const std::string& mjcf);

// Makes MuJoCo's fatal errors (mju_error) throw SimulationError instead of
// exiting the process. Idempotent; load_model_from_string calls it.
void install_mujoco_error_handler();

// Moves camera `camera` of `m` on the sphere about its look-at point by the
// orbit of `perturbation` (azimuth, elevation, distance_scale), still looking
// at the point; the look-at point defaults to where the optical axis meets the
// static scene. Body poses in `d` must be current (mj_kinematics). Throws
// std::runtime_error when there is no look-at point.
void orbit_camera(mjModel* m, const mjData* d, int camera, const CameraPerturbation& perturbation);

// Axis-angle vector (axis * angle, rad) of a unit quaternion (w, x, y, z).
std::array<double, 3> quat_to_axis_angle(const double quat[4]);

}  // namespace envs
