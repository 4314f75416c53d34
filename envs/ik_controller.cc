#include "envs/ik_controller.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace envs {
namespace {

using RowMatrix3 = Eigen::Matrix<double, 3, 3, Eigen::RowMajor>;

Eigen::Vector3d rotation_vector(const Eigen::Matrix3d& rotation) {
  const Eigen::AngleAxisd angle_axis(rotation);
  return angle_axis.angle() * angle_axis.axis();
}

}  // namespace

IkController::IkController(const mjModel* model, const std::string& prefix, IkSettings settings)
    : model_(model), settings_(settings) {
  if (!model) throw std::runtime_error("IkController: model is null");
  if (!(settings_.damping > 0) || settings_.iterations < 1 || settings_.ramp_substeps < 1 ||
      !(settings_.gripper_speed >= 0) || !(settings_.rotation_weight >= 0)) {
    throw std::runtime_error(
        "IkController: settings need damping > 0, iterations >= 1, ramp_substeps >= 1, "
        "gripper_speed >= 0, rotation_weight >= 0");
  }
  const std::string site = prefix + "grip_site";
  site_id_ = mj_name2id(model, mjOBJ_SITE, site.c_str());
  if (site_id_ < 0) throw std::runtime_error("IkController: model has no site '" + site + "'");
  for (int i = 1;; ++i) {
    const std::string joint_name = prefix + "joint" + std::to_string(i);
    const int joint = mj_name2id(model, mjOBJ_JOINT, joint_name.c_str());
    if (joint < 0) break;
    if (model->jnt_type[joint] != mjJNT_HINGE) {
      throw std::runtime_error("IkController: joint '" + joint_name + "' is not a hinge");
    }
    const std::string servo = prefix + "pos_j" + std::to_string(i);
    const int actuator = mj_name2id(model, mjOBJ_ACTUATOR, servo.c_str());
    if (actuator < 0) throw std::runtime_error("IkController: model has no actuator '" + servo + "'");
    if (model->actuator_trntype[actuator] != mjTRN_JOINT ||
        model->actuator_trnid[2 * actuator] != joint) {
      throw std::runtime_error("IkController: actuator '" + servo + "' does not drive joint '" +
                               joint_name + "'");
    }
    qpos_index_.push_back(model->jnt_qposadr[joint]);
    dof_index_.push_back(model->jnt_dofadr[joint]);
    actuator_.push_back(actuator);
    if (model->jnt_limited[joint]) {
      limits_.push_back({model->jnt_range[2 * joint], model->jnt_range[2 * joint + 1]});
    } else {
      limits_.push_back({-mjPI * 4, mjPI * 4});
    }
  }
  if (qpos_index_.empty()) {
    throw std::runtime_error("IkController: model has no joint '" + prefix + "joint1'");
  }

  gripper_ = GripperServos(model, prefix, "IkController");

  const int n = joint_count();
  scratch_.reset(mj_makeData(model));
  jacp_.assign(3 * model->nv, 0);
  jacr_.assign(3 * model->nv, 0);
  ramp_from_.setZero(n);
  ramp_to_.setZero(n);
  q_.setZero(n);
  dq_.setZero(n);
  jacobian_.setZero(6, n);
}

IkController::~IkController() = default;

void IkController::reset(const mjData* data) {
  target_position_ = Eigen::Map<const Eigen::Vector3d>(data->site_xpos + 3 * site_id_);
  target_rotation_ = Eigen::Map<const RowMatrix3>(data->site_xmat + 9 * site_id_);
  for (int i = 0; i < joint_count(); ++i) ramp_from_[i] = ramp_to_[i] = data->qpos[qpos_index_[i]];
  substep_ = settings_.ramp_substeps;
  gripper_.reset();
  residual_ = 0;
}

void IkController::set_action(const mjData* data, const Action& action) {
  for (int i = 0; i < 7; ++i) {
    if (!std::isfinite(action[i])) {
      throw std::runtime_error("IkController: action[" + std::to_string(i) + "] is not finite");
    }
  }
  auto clipped = [&](int i) { return std::clamp(double(action[i]), -1.0, 1.0); };
  target_position_ += settings_.max_delta_position *
                      Eigen::Vector3d(clipped(0), clipped(1), clipped(2));
  const Eigen::Vector3d rotation =
      settings_.max_delta_rotation * Eigen::Vector3d(clipped(3), clipped(4), clipped(5));
  const double angle = rotation.norm();
  if (angle > 0) {
    target_rotation_ = Eigen::AngleAxisd(angle, rotation / angle).toRotationMatrix() * target_rotation_;
  }
  gripper_.set_command(clipped(6));
  // The ramp starts from where the servos are being sent now.
  const double done = std::min(1.0, double(substep_) / settings_.ramp_substeps);
  ramp_from_ = ramp_from_ + done * (ramp_to_ - ramp_from_);
  solve(data);
  substep_ = 0;
}

void IkController::solve(const mjData* data) {
  const mjModel* m = model_;
  mjData* s = scratch_.get();
  const int n = joint_count();
  const int nv = m->nv;
  // Start from the state as it is, with the arm at its last joint targets.
  std::copy(data->qpos, data->qpos + m->nq, s->qpos);
  for (int i = 0; i < n; ++i) s->qpos[qpos_index_[i]] = ramp_to_[i];
  const double w = settings_.rotation_weight;
  const double lambda2 = settings_.damping * settings_.damping;
  Eigen::Matrix<double, 6, 1> error;
  for (int iteration = 0; iteration <= settings_.iterations; ++iteration) {
    mj_kinematics(m, s);
    mj_comPos(m, s);
    const Eigen::Vector3d position = Eigen::Map<const Eigen::Vector3d>(s->site_xpos + 3 * site_id_);
    const Eigen::Matrix3d rotation = Eigen::Map<const RowMatrix3>(s->site_xmat + 9 * site_id_);
    error.head<3>() = target_position_ - position;
    error.tail<3>() = w * rotation_vector(target_rotation_ * rotation.transpose());
    residual_ = error.norm();
    if (residual_ < settings_.tolerance || iteration == settings_.iterations) break;
    mj_jacSite(m, s, jacp_.data(), jacr_.data(), site_id_);
    for (int c = 0; c < n; ++c) {
      for (int r = 0; r < 3; ++r) {
        jacobian_(r, c) = jacp_[r * nv + dof_index_[c]];
        jacobian_(3 + r, c) = w * jacr_[r * nv + dof_index_[c]];
      }
    }
    jjt_.noalias() = jacobian_ * jacobian_.transpose();
    jjt_.diagonal().array() += lambda2;
    solver_.compute(jjt_);
    dq_.noalias() = jacobian_.transpose() * solver_.solve(error);
    for (int i = 0; i < n; ++i) {
      double& q = s->qpos[qpos_index_[i]];
      q = std::clamp(q + dq_[i], limits_[i][0], limits_[i][1]);
    }
  }
  for (int i = 0; i < n; ++i) ramp_to_[i] = s->qpos[qpos_index_[i]];
}

void IkController::apply(const mjModel* model, mjData* data) {
  const double t = std::min(1.0, double(++substep_) / settings_.ramp_substeps);
  for (int i = 0; i < joint_count(); ++i) {
    data->ctrl[actuator_[i]] = ramp_from_[i] + t * (ramp_to_[i] - ramp_from_[i]);
    // Gravity and Coriolis forces on the arm are cancelled, as a real arm's
    // controller does, so the servos only track.
    data->qfrc_applied[dof_index_[i]] = data->qfrc_bias[dof_index_[i]];
  }
  gripper_.update(data, settings_.gripper_speed);
  (void)model;
}

}  // namespace envs
