// LIBERO's delta end-effector action space: an operational-space controller
// (OSC) for the Panda's 7 arm joints plus the gripper command.
#pragma once

#include <mujoco/mujoco.h>

#include <Eigen/Dense>
#include <array>
#include <string>
#include <vector>

#include "envs/types.h"

namespace envs {

// A parallel gripper's position servos: every actuator named "<prefix>gripper..."
// gets one command; the top of the first one's ctrlrange opens, the bottom
// closes. The gripper state (-1 open .. +1 closed) follows the sign of the
// command at `speed` per update (0: jumps to the command).
class GripperServos {
 public:
  GripperServos() = default;
  // Throws std::runtime_error, naming `owner`, if no such actuator exists or
  // the first has no ctrlrange.
  GripperServos(const mjModel* model, const std::string& prefix, const std::string& owner);
  void reset() { state_ = command_ = -1; }
  void set_command(double command) { command_ = command; }
  // Advances the state and writes the servos' ctrl. Allocates nothing.
  void update(mjData* data, double speed);
  double state() const { return state_; }

 private:
  std::vector<int> actuators_;
  double open_ctrl_ = 0, close_ctrl_ = 0;
  double state_ = -1, command_ = -1;
};

// What Env needs from an arm controller: a pose goal per control step from a
// 7-D delta end-effector action, actuator commands every physics substep.
class ArmController {
 public:
  virtual ~ArmController() = default;
  // Goal = current pose, gripper open. Call after every simulator reset, with
  // data's kinematics current.
  virtual void reset(const mjData* data) = 0;
  // Once per control step. Throws std::runtime_error on a non-finite value.
  virtual void set_action(const mjData* data, const Action& action) = 0;
  // Every physics substep: writes data->ctrl (and any applied forces). Allocates nothing.
  virtual void apply(const mjModel* model, mjData* data) = 0;
  // Gripper state in [-1, 1] (-1 open).
  virtual double gripper_state() const = 0;
};

struct OscSettings {
  double kp = 150;                   // position (1/s^2) and orientation stiffness, task space
  double damping_ratio = 1;          // kd = 2 sqrt(kp) * damping_ratio
  double max_delta_position = 0.05;  // m per control step at action 1.0
  double max_delta_rotation = 0.5;   // rad per control step at action 1.0
  double null_kp = 10;          // joint-space pull to the posture target in the null space (1/s^2)
  double gripper_speed = 0.01;  // change of the gripper state (range -1..1) per apply(); 0: instant
};

class OscController : public ArmController {
 public:
  // Finds the robot's joints, motors, gripper actuators and TCP site by name
  // ("<prefix>joint1..7", "<prefix>torque_j1..7", actuators starting with
  // "<prefix>gripper", "<prefix>grip_site"). Throws std::runtime_error naming
  // what is missing or malformed. The posture target starts at kPandaInitQpos.
  OscController(const mjModel* model, const std::string& prefix = "robot0_",
                OscSettings settings = {});

  // Goal = current pose, gripper open (state and command -1), posture target
  // unchanged. Call after every simulator reset, with data's kinematics current.
  void reset(const mjData* data) override;

  // Once per control step: goal pose = current TCP pose + scaled delta
  // (position in the world frame; rotation as an axis-angle vector applied in
  // the world frame, as robosuite's OSC_POSE does). Values are clipped to
  // [-1, 1]. The gripper command -1 opens, +1 closes; like robosuite's Panda
  // gripper its sign drives the gripper state at gripper_speed per apply().
  // Throws std::runtime_error on a non-finite value.
  void set_action(const mjData* data, const Action& action) override;

  // Every physics substep: writes the arm torques (task-space PD through the
  // operational inertia, critically damped, null-space posture term, plus
  // qfrc_bias) and the gripper targets into data->ctrl, clipped to the
  // actuators' ranges. Reads data's kinematics, mass matrix and qfrc_bias:
  // exact between mj_step1 and mj_step2, one substep old after mj_step.
  // Allocates nothing.
  void apply(const mjModel* model, mjData* data) override;

  // Current TCP pose (world frame).
  Eigen::Vector3d tcp_position(const mjData* data) const;
  Eigen::Matrix3d tcp_rotation(const mjData* data) const;
  // The goal set by the last set_action() or reset().
  const Eigen::Vector3d& goal_position() const { return goal_position_; }
  const Eigen::Matrix3d& goal_rotation() const { return goal_rotation_; }
  // Gripper state in [-1, 1] (-1 open).
  double gripper_state() const override { return gripper_.state(); }

  // Joint posture the null-space term pulls towards (rad, joints 1-7).
  void set_posture(const std::array<double, 7>& posture);

  int site_id() const { return site_id_; }
  const OscSettings& settings() const { return settings_; }

 private:
  using Matrix67 = Eigen::Matrix<double, 6, 7>;
  using Matrix7 = Eigen::Matrix<double, 7, 7>;
  using Vector7 = Eigen::Matrix<double, 7, 1>;
  using Vector6 = Eigen::Matrix<double, 6, 1>;
  using Matrix6 = Eigen::Matrix<double, 6, 6>;

  OscSettings settings_;
  int site_id_ = -1;
  std::array<int, 7> qpos_index_{};                    // qpos address of each arm joint
  std::array<int, 7> dof_index_{};                     // dof address of each arm joint
  std::array<int, 7> torque_actuator_{};               // motor actuator of each arm joint
  std::array<double, 7> torque_scale_{};               // ctrl per N m (1 / gear)
  std::array<std::array<double, 2>, 7> ctrl_range_{};  // per motor
  GripperServos gripper_;
  Vector7 posture_ = Vector7::Zero();

  // Goal and gripper state.
  Eigen::Vector3d goal_position_ = Eigen::Vector3d::Zero();
  Eigen::Matrix3d goal_rotation_ = Eigen::Matrix3d::Identity();

  // Preallocated buffers for apply().
  std::vector<mjtNum> jacp_, jacr_;  // 3 x nv each
  std::vector<mjtNum> full_mass_;    // nv x nv
  Matrix67 jacobian_;
  Matrix7 mass_;
  Matrix7 mass_inverse_;
  Eigen::LLT<Matrix7> mass_llt_;
  Eigen::SelfAdjointEigenSolver<Matrix6> lambda_solver_;
};

}  // namespace envs
