// Delta end-effector control for position-controlled arms of any joint count
// (the WidowX- and Google-robot-style arms of the SimplerEnv-style suites):
// each control step moves a target pose by the action's delta, solves damped
// least-squares inverse kinematics for joint targets, and the arm's position
// servos track them over the step's substeps.
#pragma once

#include <mujoco/mujoco.h>

#include <Eigen/Dense>
#include <memory>
#include <string>
#include <vector>

#include "envs/controller.h"

namespace envs {

struct IkSettings {
  double max_delta_position = 1.0;  // m per control step at action 1.0 (1.0: actions are metres)
  double max_delta_rotation = 1.0;  // rad per control step at action 1.0
  double damping = 0.02;            // damped least squares lambda (m)
  double rotation_weight = 0.3;     // m per rad: how much an orientation error counts against position
  int iterations = 30;              // IK iterations per control step at most
  double tolerance = 1e-4;          // m, stop iterating below this weighted pose error
  int ramp_substeps = 50;           // substeps over which joint targets move to the new solution
  double gripper_speed = 0;         // change of the gripper state (-1..1) per substep; 0: instant
};

class IkController : public ArmController {
 public:
  // Finds the arm by the robot naming convention: hinge joints "<prefix>joint1"
  // .. "<prefix>jointN" (N >= 1, up to the first missing index), position
  // actuators "<prefix>pos_j1" .. "<prefix>pos_jN" driving them, gripper
  // actuators whose names start with "<prefix>gripper" (position servos; the
  // top of the ctrlrange opens), site "<prefix>grip_site". Throws
  // std::runtime_error naming what is missing or malformed.
  IkController(const mjModel* model, const std::string& prefix, IkSettings settings = {});
  ~IkController() override;

  // Target = current pose; joint targets = current joint positions; gripper open.
  void reset(const mjData* data) override;
  // Target position += delta (world frame); target rotation = delta rotation
  // (axis-angle, world frame) * target rotation: deltas accumulate on the
  // target, not on the measured pose, so tracking lag does not drift. Values
  // are clipped to [-1, 1] before scaling. Solves IK for the new joint targets.
  void set_action(const mjData* data, const Action& action) override;
  // Ramps the servo targets, compensates gravity and Coriolis forces on the
  // arm's joints (qfrc_applied), drives the gripper.
  void apply(const mjModel* model, mjData* data) override;
  double gripper_state() const override { return gripper_.state(); }

  int joint_count() const { return int(qpos_index_.size()); }
  const Eigen::Vector3d& target_position() const { return target_position_; }
  const Eigen::Matrix3d& target_rotation() const { return target_rotation_; }
  // Weighted pose error (m) the last IK solve left (unreachable targets leave more).
  double residual() const { return residual_; }

 private:
  // Joint targets reaching the current target pose, starting from `start`.
  void solve(const mjData* data);

  const mjModel* model_ = nullptr;
  IkSettings settings_;
  int site_id_ = -1;
  std::vector<int> qpos_index_, dof_index_, actuator_;
  std::vector<std::array<double, 2>> limits_;  // rad, per joint
  GripperServos gripper_;

  Eigen::Vector3d target_position_ = Eigen::Vector3d::Zero();
  Eigen::Matrix3d target_rotation_ = Eigen::Matrix3d::Identity();
  double residual_ = 0;
  int substep_ = 0;

  // Preallocated: a scratch copy of the state for IK, Jacobians, solver buffers.
  std::unique_ptr<mjData, decltype(&mj_deleteData)> scratch_{nullptr, mj_deleteData};
  std::vector<mjtNum> jacp_, jacr_;  // 3 x nv each
  Eigen::VectorXd ramp_from_, ramp_to_, q_, dq_;
  Eigen::MatrixXd jacobian_;         // 6 x N
  Eigen::Matrix<double, 6, 6> jjt_;
  Eigen::LDLT<Eigen::Matrix<double, 6, 6>> solver_;
};

}  // namespace envs
