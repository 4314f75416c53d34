#include "envs/env.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>

namespace envs {

namespace {

// MuJoCo's fatal errors (mju_error: stack exhausted, allocation failed) exit
// the process unless a handler is set; this one throws, so that the episode
// in which it happened records the error and the run goes on.
[[noreturn]] void throw_mujoco_error(const char* message) {
  throw SimulationError(std::string("MuJoCo error: ") + message);
}

}  // namespace

void install_mujoco_error_handler() {
  static std::once_flag once;
  std::call_once(once, [] { mju_user_error = throw_mujoco_error; });
}

mjModel* load_model_from_string(const std::string& mjcf) {
  install_mujoco_error_handler();
  mjVFS vfs;
  mj_defaultVFS(&vfs);
  const char* file_name = "scene.xml";
  if (mj_makeEmptyFileVFS(&vfs, file_name, int(mjcf.size())) != 0) {
    throw std::runtime_error("MJCF document too large for MuJoCo's virtual file system");
  }
  const int index = mj_findFileVFS(&vfs, file_name);
  std::memcpy(vfs.filedata[index], mjcf.data(), mjcf.size());
  char error[1024] = "";
  mjModel* model = mj_loadXML(file_name, &vfs, error, sizeof(error));
  mj_deleteVFS(&vfs);
  if (!model) throw std::runtime_error(std::string("MJCF did not compile: ") + error);
  return model;
}

std::array<double, 3> quat_to_axis_angle(const double quat[4]) {
  double w = quat[0], x = quat[1], y = quat[2], z = quat[3];
  // Same rotation, angle in [0, pi].
  if (w < 0) w = -w, x = -x, y = -y, z = -z;
  const double sin_half = std::sqrt(x * x + y * y + z * z);
  if (sin_half < 1e-12) return {0, 0, 0};
  const double angle = 2 * std::atan2(sin_half, w);
  return {x / sin_half * angle, y / sin_half * angle, z / sin_half * angle};
}

namespace {

// Where the ray from `origin` along unit `direction` first meets a geom welded
// to the world (the table, not the objects or the robot in front of it).
std::array<double, 3> first_static_hit(const mjModel* m, const mjData* d, const double origin[3],
                                       const double direction[3], const char* camera_name) {
  double point[3] = {origin[0], origin[1], origin[2]};
  for (int pass = 0; pass < 64; ++pass) {
    int geom = -1;
    const mjtNum distance = mj_ray(m, d, point, direction, nullptr, 1, -1, &geom);
    if (geom < 0 || distance < 0) break;
    for (int i = 0; i < 3; ++i) point[i] += distance * direction[i];
    if (m->body_weldid[m->geom_bodyid[geom]] == 0) return {point[0], point[1], point[2]};
    // A moving geom: continue just past it.
    for (int i = 0; i < 3; ++i) point[i] += 1e-6 * direction[i];
  }
  throw std::runtime_error(std::string("camera '") + (camera_name ? camera_name : "?") +
                           "': its optical axis meets no static geom; give the orbit a look-at point");
}

}  // namespace

void orbit_camera(mjModel* m, const mjData* d, int camera, const CameraPerturbation& perturbation) {
  // The camera's world pose from its body's pose (kinematics done) and its local pose.
  const int body = m->cam_bodyid[camera];
  const double* body_pos = d->xpos + 3 * body;
  const double* body_quat = d->xquat + 4 * body;
  double position[3], orientation[4];
  mju_rotVecQuat(position, m->cam_pos + 3 * camera, body_quat);
  mju_addTo3(position, body_pos);
  mju_mulQuat(orientation, body_quat, m->cam_quat + 4 * camera);
  std::array<double, 3> look_at = perturbation.look_at;
  if (!std::isfinite(look_at[0]) || !std::isfinite(look_at[1]) || !std::isfinite(look_at[2])) {
    // Cameras look along their -z axis.
    const double minus_z[3] = {0, 0, -1};
    double forward[3];
    mju_rotVecQuat(forward, minus_z, orientation);
    look_at = first_static_hit(m, d, position, forward, mj_id2name(m, mjOBJ_CAMERA, camera));
  }
  double offset[3];
  mju_sub3(offset, position, look_at.data());
  const double distance = mju_norm3(offset);
  if (distance < 1e-9) throw std::runtime_error("camera orbit: the camera sits on its look-at point");

  // Azimuth about the world vertical, then elevation about the horizontal axis
  // across the view (kept within +/-89 degrees of the horizontal).
  const double vertical[3] = {0, 0, 1};
  double azimuth_quat[4], elevation_quat[4] = {1, 0, 0, 0}, turned[3];
  mju_axisAngle2Quat(azimuth_quat, vertical, perturbation.azimuth);
  mju_rotVecQuat(turned, offset, azimuth_quat);
  double across[3];
  mju_cross(across, turned, vertical);
  if (mju_normalize3(across) > 1e-9) {
    const double limit = 89 * mjPI / 180;
    const double current = std::asin(std::clamp(turned[2] / distance, -1.0, 1.0));
    const double target = std::clamp(current + perturbation.elevation, -limit, limit);
    mju_axisAngle2Quat(elevation_quat, across, target - current);
  }
  double turn[4], moved[3];
  mju_mulQuat(turn, elevation_quat, azimuth_quat);
  mju_rotVecQuat(moved, offset, turn);
  mju_scl3(moved, moved, perturbation.distance_scale);
  double new_position[3], new_orientation[4];
  mju_add3(new_position, look_at.data(), moved);
  mju_mulQuat(new_orientation, turn, orientation);

  // Back into the body's frame.
  double body_inverse[4], relative[3];
  mju_negQuat(body_inverse, body_quat);
  mju_sub3(relative, new_position, body_pos);
  mju_rotVecQuat(m->cam_pos + 3 * camera, relative, body_inverse);
  mju_mulQuat(m->cam_quat + 4 * camera, body_inverse, new_orientation);
  mju_normalize4(m->cam_quat + 4 * camera);
}

Env::Env(const std::string& mjcf, EnvSettings settings)
    : settings_(std::move(settings)),
      model_(load_model_from_string(mjcf), mj_deleteModel),
      data_(nullptr, mj_deleteData) {
  data_.reset(mj_makeData(model_.get()));
  const mjModel* m = model_.get();
  if (settings_.substeps <= 0) throw std::runtime_error("substeps must be positive");
  if (settings_.control == ArmControl::kIk) {
    controller_ = std::make_unique<IkController>(m, settings_.robot_prefix, settings_.ik);
  } else {
    controller_ = std::make_unique<OscController>(m, settings_.robot_prefix, settings_.controller);
  }
  const std::string site = settings_.robot_prefix + "grip_site";
  grip_site_ = mj_name2id(m, mjOBJ_SITE, site.c_str());
  if (grip_site_ < 0) throw std::runtime_error("model has no site '" + site + "'");
  for (int i = 0; i < 2; ++i) {
    const std::string joint = settings_.robot_prefix + "finger_joint" + std::to_string(i + 1);
    const int id = mj_name2id(m, mjOBJ_JOINT, joint.c_str());
    if (id < 0) throw std::runtime_error("model has no joint '" + joint + "'");
    finger_qpos_[i] = m->jnt_qposadr[id];
  }
  for (const std::string& name : settings_.cameras) {
    const int id = camera_id(name);
    if (id < 0) throw std::runtime_error("model has no camera '" + name + "'");
    camera_ids_.push_back(id);
    observation_.images[name];  // allocate map nodes once
  }
  camera_pos0_.assign(m->cam_pos, m->cam_pos + 3 * m->ncam);
  camera_quat0_.assign(m->cam_quat, m->cam_quat + 4 * m->ncam);
  camera_fovy0_.assign(m->cam_fovy, m->cam_fovy + m->ncam);
  observation_.proprio.resize(8);
  observation_.privileged["eef"];
}

Env::~Env() = default;

int Env::camera_id(const std::string& name) const {
  const auto alias = settings_.camera_aliases.find(name);
  if (alias != settings_.camera_aliases.end()) {
    return mj_name2id(model_.get(), mjOBJ_CAMERA, alias->second.c_str());
  }
  int id = mj_name2id(model_.get(), mjOBJ_CAMERA, name.c_str());
  if (id < 0) {
    id = mj_name2id(model_.get(), mjOBJ_CAMERA, (settings_.robot_prefix + name).c_str());
  }
  return id;
}

void Env::track_bodies(const std::vector<std::string>& body_names) {
  tracked_bodies_.clear();
  for (const std::string& name : body_names) {
    const int id = mj_name2id(model_.get(), mjOBJ_BODY, name.c_str());
    if (id < 0) throw std::runtime_error("model has no body '" + name + "'");
    tracked_bodies_.emplace_back(name, id);
    observation_.privileged[name];
  }
}

const Observation& Env::reset(const ResetSpec& spec) {
  mjModel* m = model_.get();
  mjData* d = data_.get();
  if (!spec.qpos.empty() && int(spec.qpos.size()) != m->nq) {
    throw std::runtime_error("reset state has " + std::to_string(spec.qpos.size()) +
                             " qpos values, model has " + std::to_string(m->nq));
  }
  if (!spec.qvel.empty() && int(spec.qvel.size()) != m->nv) {
    throw std::runtime_error("reset state has " + std::to_string(spec.qvel.size()) +
                             " qvel values, model has " + std::to_string(m->nv));
  }
  mj_resetData(m, d);
  if (!spec.qpos.empty()) std::copy(spec.qpos.begin(), spec.qpos.end(), d->qpos);
  if (!spec.qvel.empty()) std::copy(spec.qvel.begin(), spec.qvel.end(), d->qvel);

  // Cameras: restore, then apply this episode's perturbation.
  std::copy(camera_pos0_.begin(), camera_pos0_.end(), m->cam_pos);
  std::copy(camera_quat0_.begin(), camera_quat0_.end(), m->cam_quat);
  std::copy(camera_fovy0_.begin(), camera_fovy0_.end(), m->cam_fovy);
  // An orbit needs the bodies (cameras' parents) and the static scene placed.
  bool kinematics_done = false;
  for (const auto& [name, perturbation] : spec.cameras) {
    const int id = camera_id(name);
    if (id < 0) throw std::runtime_error("camera perturbation for unknown camera '" + name + "'");
    if (perturbation.has_orbit()) {
      if (!kinematics_done) mj_kinematics(m, d);
      kinematics_done = true;
      orbit_camera(m, d, id, perturbation);
    }
    for (int i = 0; i < 3; ++i) m->cam_pos[3 * id + i] += perturbation.position_offset[i];
    // Rotation offset as roll, pitch, yaw about the camera's own x, y, z axes.
    double quat[4] = {1, 0, 0, 0}, axis_quat[4], tmp[4];
    for (int axis = 0; axis < 3; ++axis) {
      double direction[3] = {0, 0, 0};
      direction[axis] = 1;
      mju_axisAngle2Quat(axis_quat, direction, perturbation.rotation_offset[axis]);
      mju_mulQuat(tmp, quat, axis_quat);
      mju_copy4(quat, tmp);
    }
    mju_mulQuat(tmp, m->cam_quat + 4 * id, quat);
    mju_normalize4(tmp);
    mju_copy4(m->cam_quat + 4 * id, tmp);
    m->cam_fovy[id] += perturbation.fovy_delta;
  }

  mj_forward(m, d);
  // Controller state (goal, gripper) starts afresh: episodes do not depend on
  // what this worker ran before.
  controller_->reset(d);
  observation_.instruction = spec.instruction;
  observation_.step = 0;
  check_state();
  return observe();
}

const Observation& Env::step(const Action& action) {
  const mjModel* m = model_.get();
  mjData* d = data_.get();
  for (float value : action) {
    if (!std::isfinite(value)) throw SimulationError("action contains a non-finite value");
  }
  controller_->set_action(d, action);
  for (int i = 0; i < settings_.substeps; ++i) {
    controller_->apply(m, d);
    mj_step(m, d);
  }
  check_state();
  ++observation_.step;
  return observe();
}

void Env::check_state() {
  const mjModel* m = model_.get();
  const mjData* d = data_.get();
  for (int i = 0; i < mjNWARNING; ++i) {
    if (d->warning[i].number > 0) {
      throw SimulationError(std::string("MuJoCo warning: ") + mju_warningText(i, d->warning[i].lastinfo));
    }
  }
  for (int i = 0; i < m->nq; ++i) {
    if (!std::isfinite(d->qpos[i])) throw SimulationError("simulation diverged (non-finite qpos)");
  }
}

void Env::fill_proprio() {
  const mjData* d = data_.get();
  float* proprio = observation_.proprio.data();
  const double* position = d->site_xpos + 3 * grip_site_;
  double quat[4];
  mju_mat2Quat(quat, d->site_xmat + 9 * grip_site_);
  const std::array<double, 3> axis_angle = quat_to_axis_angle(quat);
  for (int i = 0; i < 3; ++i) {
    proprio[i] = float(position[i]);
    proprio[3 + i] = float(axis_angle[i]);
  }
  proprio[6] = float(d->qpos[finger_qpos_[0]]);
  proprio[7] = float(d->qpos[finger_qpos_[1]]);
  Pose& eef = observation_.privileged["eef"];
  std::copy(position, position + 3, eef.position.begin());
  std::copy(quat, quat + 4, eef.quaternion.begin());
}

const Observation& Env::observe() {
  const mjData* d = data_.get();
  fill_proprio();
  for (auto& [name, id] : tracked_bodies_) {
    Pose& pose = observation_.privileged[name];
    std::copy(d->xpos + 3 * id, d->xpos + 3 * id + 3, pose.position.begin());
    std::copy(d->xquat + 4 * id, d->xquat + 4 * id + 4, pose.quaternion.begin());
  }
  for (size_t i = 0; i < camera_ids_.size(); ++i) {
    if (!renderer_) renderer_ = std::make_unique<Renderer>(model_.get(), settings_.render);
    renderer_->render(model_.get(), data_.get(), camera_ids_[i],
                      &observation_.images[settings_.cameras[i]]);
  }
  return observation_;
}

void Env::render(const std::string& camera, Image* out) {
  const int id = camera_id(camera);
  if (id < 0) throw std::runtime_error("model has no camera '" + camera + "'");
  if (!renderer_) renderer_ = std::make_unique<Renderer>(model_.get(), settings_.render);
  renderer_->render(model_.get(), data_.get(), id, out);
}

}  // namespace envs
