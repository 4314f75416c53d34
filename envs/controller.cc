#include "envs/controller.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "envs/panda.h"

namespace envs {
namespace {

using RowMatrix3 = Eigen::Matrix<double, 3, 3, Eigen::RowMajor>;

int find_id(const mjModel* model, mjtObj type, const std::string& name, const char* what) {
  const int id = mj_name2id(model, type, name.c_str());
  if (id < 0)
    throw std::runtime_error("OscController: model has no " + std::string(what) + " '" + name +
                             "'");
  return id;
}

// Rotation vector (axis * angle) of a rotation matrix, angle in [0, pi].
Eigen::Vector3d rotation_vector(const Eigen::Matrix3d& rotation) {
  const Eigen::AngleAxisd angle_axis(rotation);
  return angle_axis.angle() * angle_axis.axis();
}

}  // namespace

GripperServos::GripperServos(const mjModel* model, const std::string& prefix,
                             const std::string& owner) {
  const std::string gripper_prefix = prefix + "gripper";
  for (int i = 0; i < model->nu; ++i) {
    const char* name = mj_id2name(model, mjOBJ_ACTUATOR, i);
    if (name && std::string(name).rfind(gripper_prefix, 0) == 0) actuators_.push_back(i);
  }
  if (actuators_.empty()) {
    throw std::runtime_error(owner + ": model has no actuator named '" + gripper_prefix + "...'");
  }
  const int first = actuators_.front();
  if (!model->actuator_ctrllimited[first]) {
    throw std::runtime_error(owner + ": gripper actuator '" +
                             std::string(mj_id2name(model, mjOBJ_ACTUATOR, first)) +
                             "' has no ctrlrange");
  }
  open_ctrl_ = model->actuator_ctrlrange[2 * first + 1];
  close_ctrl_ = model->actuator_ctrlrange[2 * first];
}

void GripperServos::update(mjData* data, double speed) {
  if (speed > 0) {
    const double sign = (command_ > 0) - (command_ < 0);
    state_ = std::clamp(state_ + speed * sign, -1.0, 1.0);
  } else {
    state_ = command_;
  }
  const double closing = 0.5 * (state_ + 1);
  const double ctrl = open_ctrl_ + closing * (close_ctrl_ - open_ctrl_);
  for (int actuator : actuators_) data->ctrl[actuator] = ctrl;
}

OscController::OscController(const mjModel* model, const std::string& prefix, OscSettings settings)
    : settings_(settings) {
  if (!model) throw std::runtime_error("OscController: model is null");
  if (!(settings_.kp > 0) || !(settings_.damping_ratio >= 0) || !(settings_.null_kp >= 0) ||
      !(settings_.gripper_speed >= 0)) {
    throw std::runtime_error(
        "OscController: settings need kp > 0 and damping_ratio, null_kp, gripper_speed >= 0");
  }
  site_id_ = find_id(model, mjOBJ_SITE, prefix + "grip_site", "site");
  for (int i = 0; i < 7; ++i) {
    const std::string index = std::to_string(i + 1);
    const int joint = find_id(model, mjOBJ_JOINT, prefix + "joint" + index, "joint");
    if (model->jnt_type[joint] != mjJNT_HINGE) {
      throw std::runtime_error("OscController: joint '" + prefix + "joint" + index +
                               "' is not a hinge");
    }
    qpos_index_[i] = model->jnt_qposadr[joint];
    dof_index_[i] = model->jnt_dofadr[joint];
    const std::string motor = prefix + "torque_j" + index;
    const int actuator = find_id(model, mjOBJ_ACTUATOR, motor, "actuator");
    if (model->actuator_trntype[actuator] != mjTRN_JOINT ||
        model->actuator_trnid[2 * actuator] != joint) {
      throw std::runtime_error("OscController: actuator '" + motor + "' does not drive joint '" +
                               prefix + "joint" + index + "'");
    }
    const double gear = model->actuator_gear[6 * actuator];
    if (gear == 0) throw std::runtime_error("OscController: actuator '" + motor + "' has gear 0");
    torque_actuator_[i] = actuator;
    torque_scale_[i] = 1 / gear;
    if (model->actuator_ctrllimited[actuator]) {
      ctrl_range_[i] = {model->actuator_ctrlrange[2 * actuator],
                        model->actuator_ctrlrange[2 * actuator + 1]};
    } else {
      ctrl_range_[i] = {-mjMAXVAL, mjMAXVAL};
    }
  }
  gripper_ = GripperServos(model, prefix, "OscController");
  set_posture(kPandaInitQpos);

  jacp_.assign(3 * model->nv, 0);
  jacr_.assign(3 * model->nv, 0);
  full_mass_.assign(size_t(model->nv) * model->nv, 0);
}

void OscController::set_posture(const std::array<double, 7>& posture) {
  for (int i = 0; i < 7; ++i) posture_[i] = posture[i];
}

Eigen::Vector3d OscController::tcp_position(const mjData* data) const {
  return Eigen::Map<const Eigen::Vector3d>(data->site_xpos + 3 * site_id_);
}

Eigen::Matrix3d OscController::tcp_rotation(const mjData* data) const {
  return Eigen::Map<const RowMatrix3>(data->site_xmat + 9 * site_id_);
}

void OscController::reset(const mjData* data) {
  goal_position_ = tcp_position(data);
  goal_rotation_ = tcp_rotation(data);
  gripper_.reset();
}

void OscController::set_action(const mjData* data, const Action& action) {
  for (int i = 0; i < 7; ++i) {
    if (!std::isfinite(action[i])) {
      throw std::runtime_error("OscController: action[" + std::to_string(i) + "] is not finite");
    }
  }
  auto clipped = [&](int i) { return std::clamp(double(action[i]), -1.0, 1.0); };
  const Eigen::Vector3d delta_position(clipped(0), clipped(1), clipped(2));
  const Eigen::Vector3d delta_rotation(clipped(3), clipped(4), clipped(5));
  goal_position_ = tcp_position(data) + settings_.max_delta_position * delta_position;
  const Eigen::Vector3d rotation = settings_.max_delta_rotation * delta_rotation;
  const double angle = rotation.norm();
  const Eigen::Matrix3d delta = angle > 0
                                    ? Eigen::AngleAxisd(angle, rotation / angle).toRotationMatrix()
                                    : Eigen::Matrix3d::Identity();
  goal_rotation_ = delta * tcp_rotation(data);
  gripper_.set_command(clipped(6));
}

void OscController::apply(const mjModel* model, mjData* data) {
  const int nv = model->nv;

  // Task-space Jacobian (6 x 7) and joint-space inertia (7 x 7) of the arm.
  mj_jacSite(model, data, jacp_.data(), jacr_.data(), site_id_);
  mj_fullM(model, full_mass_.data(), data->qM);
  Vector7 q, qvel, bias;
  for (int c = 0; c < 7; ++c) {
    const int dof = dof_index_[c];
    for (int r = 0; r < 3; ++r) {
      jacobian_(r, c) = jacp_[r * nv + dof];
      jacobian_(3 + r, c) = jacr_[r * nv + dof];
    }
    for (int r = 0; r < 7; ++r) mass_(r, c) = full_mass_[size_t(dof_index_[r]) * nv + dof];
    q[c] = data->qpos[qpos_index_[c]];
    qvel[c] = data->qvel[dof];
    bias[c] = data->qfrc_bias[dof];
  }
  mass_llt_.compute(mass_);
  if (mass_llt_.info() != Eigen::Success) {
    throw std::runtime_error(
        "OscController::apply: the arm's mass matrix is not positive definite "
        "(run mj_forward or mj_step before the first apply)");
  }
  mass_inverse_ = mass_llt_.solve(Matrix7::Identity());

  // Operational inertia: pseudo-inverse of J M^-1 J^T (drops near-singular directions).
  const Matrix6 inverse_lambda = jacobian_ * mass_inverse_ * jacobian_.transpose();
  lambda_solver_.compute(inverse_lambda);
  const Vector6& eigenvalues = lambda_solver_.eigenvalues();
  const double threshold = 1e-6 * std::max(eigenvalues.maxCoeff(), 1e-12);
  Vector6 inverse_eigenvalues;
  for (int i = 0; i < 6; ++i) {
    inverse_eigenvalues[i] = eigenvalues[i] > threshold ? 1 / eigenvalues[i] : 0;
  }
  const Matrix6& vectors = lambda_solver_.eigenvectors();
  const Matrix6 lambda = vectors * inverse_eigenvalues.asDiagonal() * vectors.transpose();

  // Critically damped PD on the pose error.
  const double kp = settings_.kp;
  const double kd = 2 * std::sqrt(kp) * settings_.damping_ratio;
  Vector6 error;
  error.head<3>() = goal_position_ - tcp_position(data);
  error.tail<3>() = rotation_vector(goal_rotation_ * tcp_rotation(data).transpose());
  const Vector6 velocity = jacobian_ * qvel;
  const Vector6 force = lambda * (kp * error - kd * velocity);
  Vector7 torque = jacobian_.transpose() * force;

  // Posture term projected into the null space of the task.
  const double null_kd = 2 * std::sqrt(settings_.null_kp);
  const Matrix67 dynamically_consistent = lambda * jacobian_ * mass_inverse_;  // Jbar^T
  const Matrix7 null_projector =
      Matrix7::Identity() - jacobian_.transpose() * dynamically_consistent;
  const Vector7 posture_torque = mass_ * (settings_.null_kp * (posture_ - q) - null_kd * qvel);
  torque += null_projector * posture_torque + bias;

  for (int i = 0; i < 7; ++i) {
    const double ctrl = torque[i] * torque_scale_[i];
    data->ctrl[torque_actuator_[i]] = std::clamp(ctrl, ctrl_range_[i][0], ctrl_range_[i][1]);
  }

  // Gripper state follows the command's sign at a limited rate.
  gripper_.update(data, settings_.gripper_speed);
}

}  // namespace envs
