#include "tasks/simpler/fractal.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <stdexcept>

#include "envs/google_robot.h"
#include "tasks/simpler/fractal_drawer.h"
#include "tasks/simpler/fractal_scene.h"

namespace tasks::simpler {
namespace {

using Vec3 = std::array<double, 3>;
using Quat = std::array<double, 4>;
constexpr double kPi = std::numbers::pi;

constexpr int kControlHz = 3;
constexpr int kSubsteps = 167;  // 2 ms physics steps per 3 Hz control step
constexpr int kSettleSteps = 2;  // control steps of settling after placing objects
constexpr int kPickEpisodes = 25, kMoveNearEpisodes = 60, kMaxSteps = 80;

// The coke-can grid (SimplerEnv's visual-matching 5 x 5): x outer, y inner.
constexpr std::array<double, 2> kCokeX = {-0.35, -0.12};
constexpr std::array<double, 2> kCokeY = {-0.02, 0.42};
constexpr Vec3 kCokeRobotBase = {0.35, 0.20, 0};
constexpr double kCokeRobotYaw = kPi;
constexpr Vec3 kMoveNearRobotBase = {0.35, 0.21, 0};
constexpr double kMoveNearRobotYaw = kPi - 0.09;

const std::array<std::array<std::string, 3>, 5> kTriplets = {{
    {"blue_plastic_bottle", "opened_pepsi_can", "orange"},
    {"opened_7up_can", "apple", "sponge"},
    {"opened_coke_can", "opened_redbull_can", "apple"},
    {"sponge", "blue_plastic_bottle", "opened_7up_can"},
    {"orange", "opened_pepsi_can", "opened_redbull_can"},
}};
const std::array<std::array<std::array<double, 2>, 3>, 2> kNearPositions = {{
    {{{-0.33, 0.04}, {-0.33, 0.34}, {-0.13, 0.19}}},
    {{{-0.13, 0.04}, {-0.33, 0.19}, {-0.13, 0.34}}},
}};
// Kinds the move-near scene holds (each triplet draws from these).
const std::vector<std::string> kNearKinds = {
    "blue_plastic_bottle", "opened_pepsi_can", "orange",  "opened_7up_can",
    "apple",               "sponge",           "opened_coke_can", "opened_redbull_can"};

Quat about_axis(const Vec3& axis, double angle) {
  const double s = std::sin(angle / 2);
  return {std::cos(angle / 2), axis[0] * s, axis[1] * s, axis[2] * s};
}

Quat multiply(const Quat& a, const Quat& b) {
  return {a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
          a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
          a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
          a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0]};
}

// Rotation matrix (row-major) of a unit quaternion.
std::array<double, 9> matrix(const Quat& q) {
  std::array<double, 9> m;
  mju_quat2Mat(m.data(), q.data());
  return m;
}

double xy_distance(const Vec3& a, const Vec3& b) { return std::hypot(a[0] - b[0], a[1] - b[1]); }

std::string orientation_word(CokeOrientation orientation) {
  switch (orientation) {
    case CokeOrientation::kHorizontal: return "horizontal";
    case CokeOrientation::kVertical: return "vertical";
    case CokeOrientation::kStanding: return "standing";
  }
  return "";
}

// Can rotation for each orientation (the can's axis is its z axis):
// horizontal lies along world y (across the robot's view), vertical along
// world x (pointing at the robot), standing upright.
Quat coke_rotation(CokeOrientation orientation) {
  switch (orientation) {
    case CokeOrientation::kHorizontal: return about_axis({1, 0, 0}, kPi / 2);
    case CokeOrientation::kVertical: return about_axis({0, 1, 0}, kPi / 2);
    case CokeOrientation::kStanding: break;
  }
  return {1, 0, 0, 0};
}

TaskDefinition base_definition(const std::string& name, const std::string& instruction,
                               int episodes, const std::string& group) {
  TaskDefinition task;
  task.family = "fractal";
  task.name = name;
  task.instruction = instruction;
  task.episodes = episodes;
  task.group = group;
  task.protocol.max_steps = kMaxSteps;
  task.protocol.wait_steps = 0;
  task.protocol.episodes_per_task = episodes;
  task.protocol.control_hz = kControlHz;
  return task;
}

// Which Fractal task a definition names (its name without the "@variant").
std::string base_name(const TaskDefinition& task) {
  const auto at = task.name.find('@');
  return at == std::string::npos ? task.name : task.name.substr(0, at);
}

// The environment of the coke and move-near tasks.
class FractalEnv : public EpisodeEnv {
 public:
  FractalEnv(std::shared_ptr<const TaskDefinition> task, envs::EnvSettings settings);

  const envs::Observation& reset(
      int episode, const std::map<std::string, envs::CameraPerturbation>& cameras) override;
  StepResult step(const envs::Action& action) override;
  bool goal_holds() const override { return success_; }
  envs::Env& env() override { return *env_; }
  const TaskDefinition& task() const override { return *task_; }
  const std::map<std::string, double>& metrics() const override { return metrics_; }

 private:
  struct Object {
    std::string name, kind;
    int body = -1, qpos = -1, dof = -1;
    Vec3 park{};  // where it waits when an episode does not use it
  };
  void place(const Object& object, const Vec3& position, const Quat& quat, std::vector<double>* qpos);
  Vec3 position(const Object& object) const;
  Quat rotation(const Object& object) const;
  // Distractors on the counter, clear of `keep_clear` points, fixed per episode.
  void place_distractors(int episode, const std::vector<std::array<double, 2>>& keep_clear,
                         std::vector<double>* qpos);
  // Contact checks of body `object` with the robot's fingers and the rest.
  bool grasped(const Object& object) const;
  bool touching_other(const Object& object) const;
  void evaluate();
  void update_hints();
  // TCP orientation pointing down with the fingers closing along `direction`
  // (horizontal), the sign taken nearer the current TCP orientation.
  Quat grip_rotation(const Vec3& direction) const;

  std::shared_ptr<const TaskDefinition> task_;
  bool move_near_ = false;
  CokeOrientation orientation_ = CokeOrientation::kHorizontal;
  std::unique_ptr<envs::Env> env_;
  std::vector<Object> objects_;  // task objects, then distractors
  int robot_root_ = -1, finger_[2] = {-1, -1}, grip_site_ = -1;

  // Episode state.
  std::vector<int> active_;  // move near: indices of source, target, third
  std::vector<NearObject> near_;
  double settled_height_ = 0;
  double place_z_ = 0;  // TCP height at release: the grasp height at reset + 1 cm
  Vec3 grip_direction_{};  // horizontal closing direction for the source
  PickLiftJudge judge_;
  bool success_ = false;
  std::map<std::string, double> metrics_;
  envs::Pose *source_hint_ = nullptr, *target_hint_ = nullptr, *grasp_hint_ = nullptr,
             *place_hint_ = nullptr;
};

FractalEnv::FractalEnv(std::shared_ptr<const TaskDefinition> task, envs::EnvSettings settings)
    : task_(std::move(task)) {
  const std::string name = base_name(*task_);
  move_near_ = name == "move_near";
  if (!move_near_) {
    bool found = false;
    for (auto o : {CokeOrientation::kHorizontal, CokeOrientation::kVertical,
                   CokeOrientation::kStanding}) {
      if (name == "pick_coke_can_" + orientation_word(o)) orientation_ = o, found = true;
    }
    if (!found) throw std::runtime_error("task " + task_->name + " is not a Fractal coke or move-near task");
  }
  FractalSceneSettings scene;
  scene.variant = task_->variant;
  scene.robot.prefix = settings.robot_prefix;
  scene.robot.base_position = move_near_ ? kMoveNearRobotBase : kCokeRobotBase;
  scene.robot.base_yaw = move_near_ ? kMoveNearRobotYaw : kCokeRobotYaw;
  // Objects wait on the floor behind the robot until an episode places them.
  auto add = [&](const std::string& kind, const std::string& body_name) {
    const FractalObjectInfo& info = fractal_object_info(kind);
    Object o;
    o.name = body_name;
    o.kind = kind;
    o.park = {2.5, -1.5 + 0.25 * double(objects_.size()), info.rest_height + 0.001};
    scene.worldbody += fractal_object_body(kind, body_name, o.park, info.rest_quat);
    objects_.push_back(o);
  };
  if (move_near_) {
    for (const std::string& kind : kNearKinds) add(kind, kind);
  } else {
    add("coke_can", "coke_can");
  }
  const std::string mjcf = fractal_scene_mjcf(scene);
  if (scene.variant == "distractors") {
    for (const auto& [body_name, kind] : fractal_distractors()) {
      Object o;
      o.name = body_name;
      o.kind = kind;
      objects_.push_back(o);
    }
  }

  settings.control = envs::ArmControl::kIk;
  settings.substeps = kSubsteps;
  settings.render.width = kFractalImageWidth;
  settings.render.height = kFractalImageHeight;
  // Policies name the camera "agentview" or "image"; the scene calls it overhead_camera.
  settings.camera_aliases.emplace("agentview", "overhead_camera");
  settings.camera_aliases.emplace("image", "overhead_camera");
  env_ = std::make_unique<envs::Env>(mjcf, settings);

  const mjModel* m = env_->model();
  for (Object& o : objects_) {
    o.body = mj_name2id(m, mjOBJ_BODY, o.name.c_str());
    if (o.body < 0) throw std::runtime_error("Fractal scene has no body '" + o.name + "'");
    const int joint = m->body_jntadr[o.body];
    o.qpos = m->jnt_qposadr[joint];
    o.dof = m->jnt_dofadr[joint];
    if (o.park == Vec3{}) o.park = {m->qpos0[o.qpos], m->qpos0[o.qpos + 1], m->qpos0[o.qpos + 2]};
  }
  const std::string& p = settings.robot_prefix;
  robot_root_ = mj_name2id(m, mjOBJ_BODY, (p + "base").c_str());
  finger_[0] = mj_name2id(m, mjOBJ_BODY, (p + "finger1").c_str());
  finger_[1] = mj_name2id(m, mjOBJ_BODY, (p + "finger2").c_str());
  grip_site_ = mj_name2id(m, mjOBJ_SITE, (p + "grip_site").c_str());
  if (robot_root_ < 0 || finger_[0] < 0 || finger_[1] < 0 || grip_site_ < 0) {
    throw std::runtime_error("Fractal scene: robot '" + p + "' lacks its base, fingers or grip site");
  }

  // Hint entries created once so that steps do not allocate.
  envs::Observation& obs = env_->observation();
  source_hint_ = &obs.privileged["source"];
  grasp_hint_ = &obs.privileged["grasp"];
  if (move_near_) {
    target_hint_ = &obs.privileged["target"];
    place_hint_ = &obs.privileged["place"];
  }
  for (const char* key : {"source_height", "source_width", "lift", "carry"}) {
    obs.privileged_values[key] = 0;
  }
  obs.skill = move_near_ ? "fractal_move_near" : "fractal_pick_lift";
  obs.skill_index = 0;
  metrics_["grasp"] = 0;
}

void FractalEnv::place(const Object& o, const Vec3& position, const Quat& quat,
                       std::vector<double>* qpos) {
  for (int i = 0; i < 3; ++i) (*qpos)[o.qpos + i] = position[i];
  for (int i = 0; i < 4; ++i) (*qpos)[o.qpos + 3 + i] = quat[i];
}

Vec3 FractalEnv::position(const Object& o) const {
  const double* x = env_->data()->xpos + 3 * o.body;
  return {x[0], x[1], x[2]};
}

Quat FractalEnv::rotation(const Object& o) const {
  const double* q = env_->data()->xquat + 4 * o.body;
  return {q[0], q[1], q[2], q[3]};
}

void FractalEnv::place_distractors(int episode, const std::vector<std::array<double, 2>>& keep_clear,
                                   std::vector<double>* qpos) {
  if (task_->variant != "distractors") return;
  std::mt19937 rng(1000 + episode);
  std::uniform_real_distribution<double> x(-0.42, -0.08), y(-0.12, 0.52), yaw(-kPi, kPi);
  std::vector<std::array<double, 2>> taken = keep_clear;
  for (Object& o : objects_) {
    if (o.name.rfind("distractor_", 0) != 0) continue;
    const FractalObjectInfo& info = fractal_object_info(o.kind);
    for (int attempt = 0; attempt < 500; ++attempt) {
      const std::array<double, 2> xy{x(rng), y(rng)};
      bool clear = true;
      for (const auto& other : taken) {
        if (std::hypot(xy[0] - other[0], xy[1] - other[1]) < 0.16) clear = false;
      }
      if (!clear) continue;
      taken.push_back(xy);
      place(o, {xy[0], xy[1], kFractalTableHeight + info.rest_height + 0.002},
            multiply(about_axis({0, 0, 1}, yaw(rng)), info.rest_quat), qpos);
      break;
    }
  }
}

const envs::Observation& FractalEnv::reset(
    int episode, const std::map<std::string, envs::CameraPerturbation>& cameras) {
  if (episode < 0 || episode >= task_->episodes) {
    throw std::runtime_error("task " + task_->name + ": episode " + std::to_string(episode) +
                             " out of range 0.." + std::to_string(task_->episodes - 1));
  }
  const mjModel* m = env_->model();
  envs::ResetSpec spec;
  spec.cameras = cameras;
  spec.qpos.assign(m->qpos0, m->qpos0 + m->nq);
  for (int i = 0; i < 7; ++i) {
    const std::string joint = env_->settings().robot_prefix + "joint" + std::to_string(i + 1);
    spec.qpos[m->jnt_qposadr[mj_name2id(m, mjOBJ_JOINT, joint.c_str())]] =
        envs::kGoogleRobotInitQpos[i];
  }
  for (int i = 1; i <= 2; ++i) {
    const std::string joint = env_->settings().robot_prefix + "finger_joint" + std::to_string(i);
    spec.qpos[m->jnt_qposadr[mj_name2id(m, mjOBJ_JOINT, joint.c_str())]] =
        envs::kGoogleRobotFingerOpen;
  }
  for (const Object& o : objects_) {
    const FractalObjectInfo& info = fractal_object_info(o.kind);
    place(o, o.park, info.rest_quat, &spec.qpos);
  }

  std::vector<std::array<double, 2>> keep_clear;
  active_.clear();
  if (move_near_) {
    const MoveNearLayout layout = move_near_layout(episode);
    std::array<int, 3> index{};
    for (int i = 0; i < 3; ++i) {
      const std::string& kind = layout.kinds[i];
      while (objects_[index[i]].name != kind) ++index[i];
      const FractalObjectInfo& info = fractal_object_info(kind);
      // The sponge lies across the robot's view, as SimplerEnv turns it.
      const Quat quat = kind == "sponge" ? about_axis({0, 0, 1}, kPi / 2) : info.rest_quat;
      const auto& xy = layout.positions[i];
      place(objects_[index[i]], {xy[0], xy[1], kFractalTableHeight + info.rest_height + 0.002},
            quat, &spec.qpos);
      keep_clear.push_back(xy);
    }
    const int third = 3 - layout.source - layout.target;
    active_ = {index[layout.source], index[layout.target], index[third]};
    // Keep the carry path clear: points along source -> target.
    const auto& a = layout.positions[layout.source];
    const auto& b = layout.positions[layout.target];
    for (double t : {0.33, 0.66}) {
      keep_clear.push_back({a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])});
    }
    spec.instruction = "move " + fractal_object_info(layout.kinds[layout.source]).instruction_name +
                       " near " + fractal_object_info(layout.kinds[layout.target]).instruction_name;
  } else {
    const int ix = episode / 5, iy = episode % 5;
    const double x = kCokeX[0] + (kCokeX[1] - kCokeX[0]) * ix / 4.0;
    const double y = kCokeY[0] + (kCokeY[1] - kCokeY[0]) * iy / 4.0;
    const FractalObjectInfo& info = fractal_object_info("coke_can");
    const double rest = orientation_ == CokeOrientation::kStanding ? info.rest_height
                                                                  : info.size[0] / 2;
    place(objects_[0], {x, y, kFractalTableHeight + rest + 0.002}, coke_rotation(orientation_),
          &spec.qpos);
    active_.push_back(0);
    keep_clear.push_back({x, y});
    spec.instruction = task_->instruction;
  }
  place_distractors(episode, keep_clear, &spec.qpos);

  // Let everything settle with the arm holding its posture, then start the
  // episode from the settled state at rest.
  env_->reset(spec);
  envs::Action hold{0, 0, 0, 0, 0, 0, -1};
  for (int i = 0; i < kSettleSteps; ++i) env_->step(hold);
  const mjData* d = env_->data();
  spec.qpos.assign(d->qpos, d->qpos + m->nq);
  env_->reset(spec);

  // Episode state.
  near_.clear();
  for (int index : active_) {
    const Object& o = objects_[index];
    const FractalObjectInfo& info = fractal_object_info(o.kind);
    const auto r = matrix(rotation(o));
    // SimplerEnv: the model's bounding box turned by the settled rotation.
    double bx = 0, by = 0;
    for (int j = 0; j < 3; ++j) {
      bx += r[j] * info.size[j];
      by += r[3 + j] * info.size[j];
    }
    NearObject n;
    n.settled = position(o);
    n.position = n.settled;
    n.half_diagonal = std::hypot(bx, by) / 2;
    near_.push_back(n);
  }
  settled_height_ = position(objects_[active_[0]])[2];
  // Fingers close across the source's narrow horizontal side; between equal
  // sides, the one nearer the current closing direction.
  {
    const Object& source = objects_[active_[0]];
    const auto r = matrix(rotation(source));
    const FractalObjectInfo& info = fractal_object_info(source.kind);
    const bool round = source.kind.find("can") != std::string::npos ||
                       source.kind == "blue_plastic_bottle";
    const double* site = d->site_xmat + 9 * grip_site_;
    double best_extent = 1e9, best_alignment = -1;
    grip_direction_ = {site[1], site[4], 0};
    for (int j = 0; j < 3; ++j) {
      const Vec3 axis{r[j], r[3 + j], r[6 + j]};
      const double horizontal = std::hypot(axis[0], axis[1]);
      if (horizontal < 0.7 || (round && j == 2)) continue;  // never along a cylinder's axis
      const Vec3 direction{axis[0] / horizontal, axis[1] / horizontal, 0};
      const double alignment = std::abs(direction[0] * site[1] + direction[1] * site[4]);
      const double extent = info.size[j];
      if (extent < best_extent - 0.002 ||
          (extent < best_extent + 0.002 && alignment > best_alignment)) {
        best_extent = std::min(extent, best_extent);
        best_alignment = alignment;
        grip_direction_ = direction;
      }
    }
  }
  judge_.reset();
  success_ = false;
  metrics_["grasp"] = 0;
  place_z_ = -1;
  update_hints();
  place_z_ = grasp_hint_->position[2] + 0.01;
  update_hints();
  return env_->observe();
}

bool FractalEnv::grasped(const Object& o) const {
  const mjModel* m = env_->model();
  const mjData* d = env_->data();
  const double* site = d->site_xmat + 9 * grip_site_;
  // Finger 1 pushes along -y of the grip site, finger 2 along +y.
  const Vec3 closing{site[1], site[4], site[7]};
  bool pressed[2] = {false, false};
  const double max_angle_cos = std::cos(80 * kPi / 180);
  for (int i = 0; i < d->ncon; ++i) {
    const mjContact& c = d->contact[i];
    const int b1 = m->geom_bodyid[c.geom1], b2 = m->geom_bodyid[c.geom2];
    int finger = -1;
    double sign = 1;  // force on the object = sign * normal force along the frame's normal
    if (b2 == o.body && (b1 == finger_[0] || b1 == finger_[1])) {
      finger = b1 == finger_[0] ? 0 : 1;
    } else if (b1 == o.body && (b2 == finger_[0] || b2 == finger_[1])) {
      finger = b2 == finger_[0] ? 0 : 1;
      sign = -1;
    } else {
      continue;
    }
    mjtNum force[6];
    mj_contactForce(m, d, i, force);
    if (force[0] < 1e-4) continue;
    Vec3 on_object{};
    for (int k = 0; k < 3; ++k) on_object[k] = sign * force[0] * c.frame[k];
    const double norm = std::sqrt(on_object[0] * on_object[0] + on_object[1] * on_object[1] +
                                  on_object[2] * on_object[2]);
    const double along = (finger == 0 ? 1 : -1) *
                         (on_object[0] * closing[0] + on_object[1] * closing[1] +
                          on_object[2] * closing[2]);
    // Finger 1 sits on +y and pushes the object toward -y: along = -(F . y).
    if (-along >= max_angle_cos * norm) pressed[finger] = true;
  }
  return pressed[0] && pressed[1];
}

bool FractalEnv::touching_other(const Object& o) const {
  const mjModel* m = env_->model();
  const mjData* d = env_->data();
  for (int i = 0; i < d->ncon; ++i) {
    const mjContact& c = d->contact[i];
    const int b1 = m->geom_bodyid[c.geom1], b2 = m->geom_bodyid[c.geom2];
    int other = -1;
    if (b1 == o.body) other = b2;
    if (b2 == o.body) other = b1;
    if (other < 0 || m->body_rootid[other] == robot_root_) continue;
    mjtNum force[6];
    mj_contactForce(m, d, i, force);
    if (std::abs(force[0]) > 1e-6) return true;
  }
  return false;
}

void FractalEnv::evaluate() {
  if (move_near_) {
    for (size_t i = 0; i < active_.size(); ++i) near_[i].position = position(objects_[active_[i]]);
    success_ = move_near_success(near_, 0, 1);
    if (grasped(objects_[active_[0]])) metrics_["grasp"] = 1;
  } else {
    const Object& can = objects_[active_[0]];
    success_ = judge_.update(grasped(can), touching_other(can), position(can)[2] - settled_height_);
    metrics_["grasp"] = judge_.ever_grasped() ? 1 : 0;
  }
}

Quat FractalEnv::grip_rotation(const Vec3& direction) const {
  // Site axes: z down, y along the closing direction, x = y cross z.
  auto rotation_for = [](const Vec3& y) {
    const Vec3 z{0, 0, -1};
    const Vec3 x{y[1] * z[2] - y[2] * z[1], y[2] * z[0] - y[0] * z[2], y[0] * z[1] - y[1] * z[0]};
    const double mat[9] = {x[0], y[0], z[0], x[1], y[1], z[1], x[2], y[2], z[2]};
    Quat q;
    mju_mat2Quat(q.data(), mat);
    return q;
  };
  // Of the two equivalent grips, the one nearer the current TCP orientation.
  const double* site = env_->data()->site_xmat + 9 * grip_site_;
  const double dot = site[1] * direction[0] + site[4] * direction[1];
  return rotation_for(dot >= 0 ? direction : Vec3{-direction[0], -direction[1], 0});
}

void FractalEnv::update_hints() {
  envs::Observation& obs = env_->observation();
  const Object& source = objects_[active_[0]];
  const FractalObjectInfo& info = fractal_object_info(source.kind);
  const Vec3 at = position(source);
  source_hint_->position = at;
  source_hint_->quaternion = rotation(source);
  // Height of the source's top above the counter and its width across the grip.
  const auto r = matrix(rotation(source));
  double top = 0;
  for (int j = 0; j < 3; ++j) top += std::abs(r[6 + j]) * info.size[j] / 2;
  const double height = at[2] + top - kFractalTableHeight;
  double width = 0;
  for (int j = 0; j < 3; ++j) {
    width += std::abs(r[j] * grip_direction_[0] + r[3 + j] * grip_direction_[1]) * info.size[j];
  }
  // Grip point: the pads 3.5 cm under the top of tall objects, at the centre of
  // low ones, never closer than 3 cm to the counter (the fingertips clear it).
  double grip_z = std::min(at[2], kFractalTableHeight + height - 0.035);
  grip_z = std::max(grip_z, kFractalTableHeight + 0.03);
  if (height < 0.09) grip_z = std::max(at[2], kFractalTableHeight + 0.03);
  grasp_hint_->position = {at[0], at[1], grip_z};
  grasp_hint_->quaternion = grip_rotation(grip_direction_);
  obs.privileged_values["source_height"] = height;
  obs.privileged_values["source_width"] = width;
  obs.privileged_values["lift"] = 0.12;  // m the pick lifts the can
  if (move_near_) {
    const Object& target = objects_[active_[1]];
    const Vec3 t = position(target);
    target_hint_->position = t;
    target_hint_->quaternion = rotation(target);
    // Place beside the target on the side the source comes from.
    const Vec3& start = near_[0].settled;
    const double dx = start[0] - t[0], dy = start[1] - t[1];
    const double length = std::max(std::hypot(dx, dy), 1e-6);
    const double gap = near_[0].half_diagonal * 0.8 + near_[1].half_diagonal * 0.8 + 0.03;
    place_hint_->position = {t[0] + dx / length * gap, t[1] + dy / length * gap, place_z_};
    place_hint_->quaternion = grasp_hint_->quaternion;
    obs.privileged_values["carry"] = 0.05;  // m the object is lifted while carried
  }
}

StepResult FractalEnv::step(const envs::Action& action) {
  const envs::Observation& obs = env_->step(action);
  evaluate();
  update_hints();
  return {&obs, success_};
}

}  // namespace

void PickLiftJudge::reset() {
  lifted_ = success_ = ever_grasped_ = false;
  significant_lifts_ = 0;
}

bool PickLiftJudge::update(bool grasped, bool touching_other, double rise) {
  if (grasped) {
    ever_grasped_ = true;
  } else {
    lifted_ = false;
  }
  lifted_ = lifted_ || (!touching_other && rise > 0.01);
  if (lifted_ && rise > 0.02) ++significant_lifts_;
  success_ = lifted_ || significant_lifts_ >= 5;
  return success_;
}

bool move_near_success(const std::vector<NearObject>& objects, int source, int target) {
  const int n = int(objects.size());
  if (source < 0 || source >= n || target < 0 || target >= n || source == target) {
    throw std::runtime_error("move_near_success: source/target index out of range");
  }
  // Nothing knocked over or off the counter.
  for (int i = 0; i < n; ++i) {
    const double drop = objects[i].position[2] - objects[i].settled[2];
    if (i == source || i == target) {
      if (drop <= -0.15) return false;
    } else if (drop <= -0.02) {
      return false;
    }
  }
  // The right object moved, and most.
  const double moved = xy_distance(objects[source].position, objects[source].settled);
  if (moved <= 0.03) return false;
  for (int i = 0; i < n; ++i) {
    if (i != source && xy_distance(objects[i].position, objects[i].settled) >= moved) return false;
  }
  // Near the target, and the target is the nearest object.
  const double to_target = xy_distance(objects[source].position, objects[target].position);
  if (to_target >= objects[target].half_diagonal + objects[source].half_diagonal + 0.10) return false;
  for (int i = 0; i < n; ++i) {
    if (i != source && to_target >= xy_distance(objects[source].position, objects[i].position) + 0.01) {
      return false;
    }
  }
  return true;
}

MoveNearLayout move_near_layout(int episode) {
  if (episode < 0 || episode >= kMoveNearEpisodes) {
    throw std::runtime_error("move near: episode " + std::to_string(episode) + " out of range 0.." +
                             std::to_string(kMoveNearEpisodes - 1));
  }
  // SimplerEnv's order: the six (source, target) pairs of distinct indices.
  static const std::array<std::array<int, 2>, 6> pairs = {
      {{0, 1}, {0, 2}, {1, 0}, {1, 2}, {2, 0}, {2, 1}}};
  MoveNearLayout layout;
  layout.kinds = kTriplets[episode / 12];
  layout.source = pairs[episode % 6][0];
  layout.target = pairs[episode % 6][1];
  layout.positions = kNearPositions[(episode % 12) / 6];
  return layout;
}

std::vector<TaskDefinition> fractal_tasks(bool variant_aggregation) {
  std::vector<TaskDefinition> own;
  for (auto o : {CokeOrientation::kHorizontal, CokeOrientation::kVertical,
                 CokeOrientation::kStanding}) {
    own.push_back(base_definition("pick_coke_can_" + orientation_word(o), "pick coke can",
                                  kPickEpisodes, "pick_coke_can"));
  }
  // The instruction names the first episode's pair; each episode sets its own.
  const MoveNearLayout first = move_near_layout(0);
  own.push_back(base_definition(
      "move_near",
      "move " + fractal_object_info(first.kinds[first.source]).instruction_name + " near " +
          fractal_object_info(first.kinds[first.target]).instruction_name,
      kMoveNearEpisodes, "move_near"));
  const std::vector<TaskDefinition> drawers = fractal_drawer_tasks();

  if (!variant_aggregation) {
    std::vector<TaskDefinition> tasks = own;
    tasks.insert(tasks.end(), drawers.begin(), drawers.end());
    return tasks;
  }
  std::vector<TaskDefinition> tasks;
  auto with_variant = [](TaskDefinition task, const std::string& variant) {
    task.variant = variant;
    task.name += "@" + variant;
    return task;
  };
  const auto& variants = fractal_scene_variants();
  for (const TaskDefinition& task : own) {
    for (const std::string& variant : variants) {
      if (!variant.empty()) tasks.push_back(with_variant(task, variant));
    }
  }
  // Drawers: SimplerEnv aggregates backgrounds, lighting and cabinet variants.
  std::vector<std::string> drawer_variants = {"background_1", "background_2", "lighting_darker",
                                              "lighting_brighter"};
  for (const std::string& v : fractal_cabinet_variants()) drawer_variants.push_back(v);
  for (const TaskDefinition& task : drawers) {
    for (const std::string& variant : drawer_variants) tasks.push_back(with_variant(task, variant));
  }
  return tasks;
}

std::unique_ptr<EpisodeEnv> make_fractal_env(std::shared_ptr<const TaskDefinition> task,
                                             envs::EnvSettings settings) {
  if (!task) throw std::runtime_error("make_fractal_env: no task");
  const std::string name = base_name(*task);
  if (name.rfind("pick_coke_can_", 0) == 0 || name == "move_near") {
    return std::make_unique<FractalEnv>(std::move(task), std::move(settings));
  }
  return make_fractal_drawer_env(std::move(task), std::move(settings));
}

}  // namespace tasks::simpler
