#include "tasks/init_states.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "envs/panda.h"
#include "envs/random.h"
#include "tasks/predicates.h"

namespace tasks {

void set_robot_init_qpos(const mjModel* model, double* qpos) {
  for (int i = 0; i < 7; ++i) {
    const std::string name = "robot0_joint" + std::to_string(i + 1);
    const int joint = mj_name2id(model, mjOBJ_JOINT, name.c_str());
    if (joint < 0) throw std::runtime_error("model has no joint " + name);
    qpos[model->jnt_qposadr[joint]] = envs::kPandaInitQpos[i];
  }
  for (int i = 1; i <= 2; ++i) {
    const std::string name = "robot0_finger_joint" + std::to_string(i);
    const int joint = mj_name2id(model, mjOBJ_JOINT, name.c_str());
    if (joint < 0) throw std::runtime_error("model has no joint " + name);
    qpos[model->jnt_qposadr[joint]] = 0.04;
  }
}

std::string model_signature(const mjModel* model) {
  std::ostringstream out;
  out << "nq=" << model->nq;
  for (int j = 0; j < model->njnt; ++j) {
    out << ";" << mj_id2name(model, mjOBJ_JOINT, j) << ":" << model->jnt_type[j];
  }
  return out.str();
}

namespace {

struct MjDataDeleter {
  void operator()(mjData* data) const { mj_deleteData(data); }
};

// Yaw (rad about world z) of a rotation matrix.
double yaw_of(const double* mat) { return std::atan2(mat[3], mat[0]); }

int free_joint_qpos(const TaskDefinition& task, const mjModel* model, const std::string& object) {
  const int joint = mj_name2id(model, mjOBJ_JOINT, (object + "_joint").c_str());
  if (joint < 0 || model->jnt_type[joint] != mjJNT_FREE) {
    throw std::runtime_error(task.key + ": object " + object + " has no free joint");
  }
  return model->jnt_qposadr[joint];
}

int body_id(const TaskDefinition& task, const mjModel* model, const std::string& name) {
  const int body = mj_name2id(model, mjOBJ_BODY, name.c_str());
  if (body < 0) throw std::runtime_error(task.key + ": no body " + name + " in the scene");
  return body;
}

// The :init joint settings (open drawers and doors, stove knobs) written into qpos.
void apply_joint_inits(const TaskDefinition& task, const mjModel* model,
                       const InitStateSettings& settings, double* qpos) {
  for (const JointInit& init : task.scene.joint_inits) {
    const int joint = mj_name2id(model, mjOBJ_JOINT, init.joint.c_str());
    if (joint < 0) throw std::runtime_error(task.key + ": no joint " + init.joint);
    const bool slide = model->jnt_type[joint] == mjJNT_SLIDE;
    double value = 0;
    if (init.state == "open") value = slide ? settings.drawer_open : settings.door_open;
    if (init.state == "on") value = settings.knob_on;
    if (init.state == "off") value = settings.knob_off;
    if (model->jnt_limited[joint]) {
      value = std::clamp(value, model->jnt_range[2 * joint], model->jnt_range[2 * joint + 1]);
    }
    qpos[model->jnt_qposadr[joint]] = value;
  }
}

// An object already placed: its bounding circle and height span.
struct Footprint {
  double x, y, radius, z_low, z_high;
};

// True if the circle (x, y, radius) comes within `clearance` of fixture
// `fixture`'s bounding box (in its own frame, at its placed pose).
bool hits_fixture(const mjData* data, int body, const envs::assets::ObjectInfo& fixture, double x,
                  double y, double radius, double z_low, double z_high, double clearance) {
  const double* pos = data->xpos + 3 * body;
  const double* mat = data->xmat + 9 * body;
  const double bottom = pos[2] - fixture.bottom_z;
  const double height = 2 * fixture.half_extents[2];
  if (z_high <= bottom + 1e-3 || z_low >= bottom + height - 1e-3) return false;
  // Point in the fixture's frame (yaw only).
  const double dx = x - pos[0], dy = y - pos[1];
  const double local_x = mat[0] * dx + mat[3] * dy, local_y = mat[1] * dx + mat[4] * dy;
  const double nearest_x = std::clamp(local_x, -fixture.half_extents[0], fixture.half_extents[0]);
  const double nearest_y = std::clamp(local_y, -fixture.half_extents[1], fixture.half_extents[1]);
  return std::hypot(local_x - nearest_x, local_y - nearest_y) < radius + clearance;
}

// Draws one placement of every object (supports first) into `qpos`. Returns
// false with a reason if some object finds no free spot.
bool draw_placement(const TaskDefinition& task, const mjModel* model, mjData* scratch,
                    envs::Rng& rng, const InitStateSettings& settings, std::vector<double>* qpos,
                    std::string* reason) {
  const Scene& scene = task.scene;
  qpos->assign(model->qpos0, model->qpos0 + model->nq);
  set_robot_init_qpos(model, qpos->data());
  apply_joint_inits(task, model, settings, qpos->data());

  std::vector<Footprint> placed;
  for (const PlacementRule& rule : scene.placements) {
    // Poses of everything placed so far (supports, opened drawers).
    std::copy(qpos->begin(), qpos->end(), scratch->qpos);
    mj_kinematics(model, scratch);
    const envs::assets::ObjectInfo* info = scene.find(rule.object);
    if (!info)
      throw std::runtime_error(task.key + ": object " + rule.object + " is not in the scene");
    const int address = free_joint_qpos(task, model, rule.object);
    const double radius = std::max(info->half_extents[0], info->half_extents[1]);
    const double height = 2 * info->half_extents[2];

    // The frame to sample in: a region site, or the top of the support object.
    const double* frame_pos = nullptr;
    const double* frame_mat = nullptr;
    double half_x = 0, half_y = 0, base_z = 0;
    double base_mat[9];
    double support_top[3];
    if (!rule.region_site.empty()) {
      const int site = mj_name2id(model, mjOBJ_SITE, rule.region_site.c_str());
      if (site < 0) throw std::runtime_error(task.key + ": no region site " + rule.region_site);
      const double* size = model->site_size + 3 * site;
      frame_pos = scratch->site_xpos + 3 * site;
      frame_mat = scratch->site_xmat + 9 * site;
      // Surface regions bound the object's centre (as in LIBERO); regions of
      // fixtures and objects must hold the whole object.
      const bool on_surface = rule.support == scene.surface;
      const double margin = on_surface ? 0.0 : radius + (rule.inside ? 0.005 : 0.0);
      half_x = std::max(size[0] - margin, 0.0);
      half_y = std::max(size[1] - margin, 0.0);
      base_z = rule.inside ? -size[2] : size[2];
    } else {
      const int support = body_id(task, model, rule.support_object);
      const envs::assets::ObjectInfo* support_info = scene.find(rule.support_object);
      const double* pos = scratch->xpos + 3 * support;
      support_top[0] = pos[0];
      support_top[1] = pos[1];
      support_top[2] = pos[2] - support_info->bottom_z + 2 * support_info->half_extents[2];
      mju_copy(base_mat, scratch->xmat + 9 * support, 9);
      frame_pos = support_top;
      frame_mat = base_mat;
      half_x = half_y = 0.005;  // a small jitter about the support's centre
    }

    bool ok = false;
    for (int attempt = 0; attempt < settings.max_tries && !ok; ++attempt) {
      const double local[3] = {envs::uniform(rng, -half_x, half_x),
                               envs::uniform(rng, -half_y, half_y), base_z};
      double world[3];
      mju_mulMatVec(world, frame_mat, local, 3, 3);
      mju_addTo3(world, frame_pos);
      const double z_low = world[2], z_high = world[2] + height;
      ok = true;
      for (const Footprint& other : placed) {
        const bool stacked = z_high <= other.z_low + 1e-3 || z_low >= other.z_high - 1e-3;
        if (!stacked && std::hypot(world[0] - other.x, world[1] - other.y) <
                            radius + other.radius + settings.clearance) {
          ok = false;
          break;
        }
      }
      for (const auto& object : scene.objects) {
        if (!ok) break;
        if (!object.fixture || object.surface || object.name == rule.support) continue;
        const int body = body_id(task, model, object.name);
        if (hits_fixture(scratch, body, object, world[0], world[1], radius, z_low, z_high,
                         settings.clearance)) {
          ok = false;
        }
      }
      if (!ok) continue;
      const double yaw =
          yaw_of(frame_mat) + envs::uniform(rng, rule.yaw_range[0], rule.yaw_range[1]);
      double* q = qpos->data() + address;
      q[0] = world[0];
      q[1] = world[1];
      q[2] = world[2] + info->bottom_z + 0.002;
      q[3] = std::cos(yaw / 2);
      q[4] = 0;
      q[5] = 0;
      q[6] = std::sin(yaw / 2);
      placed.push_back({world[0], world[1], radius, z_low, z_high});
    }
    if (!ok) {
      *reason = "no free spot for " + rule.object;
      return false;
    }
  }
  return true;
}

}  // namespace

Drift measure_drift(const TaskDefinition& task, envs::Env& env, const std::vector<double>& qpos,
                    int steps) {
  const mjModel* model = env.model();
  envs::ResetSpec reset;
  reset.qpos = qpos;
  env.reset(reset);
  for (int step = 0; step < steps; ++step) env.step(envs::Action{0, 0, 0, 0, 0, 0, -1});
  Drift drift;
  for (const PlacementRule& rule : task.scene.placements) {
    const int address = free_joint_qpos(task, model, rule.object);
    const double* now = env.data()->qpos + address;
    const double* before = qpos.data() + address;
    const double distance =
        std::sqrt(std::pow(now[0] - before[0], 2) + std::pow(now[1] - before[1], 2) +
                  std::pow(now[2] - before[2], 2));
    if (distance >= drift.distance) drift = {distance, rule.object};
  }
  return drift;
}

bool goal_holds_at(const TaskDefinition& task, const mjModel* model, mjData* data,
                   const std::vector<double>& qpos) {
  const Goal goal(task.spec.goal, task.scene, model, task.spec.file);
  std::copy(qpos.begin(), qpos.end(), data->qpos);
  mju_zero(data->qvel, model->nv);
  mj_forward(model, data);
  return goal.holds(model, data);
}

InitStateSample sample_init_state(const TaskDefinition& task, envs::Env& env, uint64_t state_seed,
                                  const InitStateSettings& settings) {
  const mjModel* model = env.model();
  envs::Rng rng(state_seed);
  std::unique_ptr<mjData, MjDataDeleter> scratch(mj_makeData(model));
  const Goal goal(task.spec.goal, task.scene, model, task.spec.file);
  const double top = task.scene.table_top_z;
  InitStateSample result;
  for (int sample = 0; sample < settings.max_samples; ++sample) {
    std::vector<double> qpos;
    std::string reason;
    if (draw_placement(task, model, scratch.get(), rng, settings, &qpos, &reason)) {
      // Settle: the robot holds its posture with the gripper open; the arm
      // then starts exactly at its init posture, objects where physics left them.
      measure_drift(task, env, qpos, settings.settle_steps);
      std::vector<double> settled(env.data()->qpos, env.data()->qpos + model->nq);
      set_robot_init_qpos(model, settled.data());

      std::copy(settled.begin(), settled.end(), scratch->qpos);
      mju_zero(scratch->qvel, model->nv);
      mj_forward(model, scratch.get());
      for (const PlacementRule& rule : task.scene.placements) {
        const int body = body_id(task, model, rule.object);
        if (scratch->xpos[3 * body + 2] < top - 0.05) {
          reason = "fell: " + rule.object;
          break;
        }
        // Every object still touches what it starts on or in.
        const int support = body_id(task, model, rule.support);
        if (!Goal::in_contact(model, scratch.get(), Goal::subtree_mask(model, body),
                              Goal::subtree_mask(model, support))) {
          reason = "off its support: " + rule.object;
          break;
        }
      }
      if (reason.empty() && goal.holds(model, scratch.get())) reason = "goal already true";
      if (reason.empty()) {
        const Drift drift = measure_drift(task, env, settled, settings.verify_steps);
        if (drift.distance >= settings.max_drift) reason = "not settled: " + drift.object;
      }
      if (reason.empty()) {
        result.qpos = std::move(settled);
        return result;
      }
    }
    ++result.rejected;
    result.reasons.push_back(reason);
  }
  std::string last = result.reasons.empty() ? "" : result.reasons.back();
  throw std::runtime_error(task.key + ": no valid initial state in " +
                           std::to_string(settings.max_samples) + " samples (last: " + last + ")");
}

InitStates make_init_states(const TaskDefinition& task, const InitStateSettings& settings) {
  envs::EnvSettings env_settings;
  env_settings.cameras.clear();
  envs::Env env(task.scene.mjcf, env_settings);
  InitStates result;
  for (int i = 0; i < settings.count; ++i) {
    const uint64_t seed =
        envs::derive_seed(settings.seed, task.key + "/" + std::to_string(i), "init_state");
    InitStateSample sample = sample_init_state(task, env, seed, settings);
    result.rejected += sample.rejected;
    for (const std::string& reason : sample.reasons) ++result.reasons[reason];
    result.states.push_back(std::move(sample.qpos));
  }
  return result;
}

void save_init_states(const std::string& path, const TaskDefinition& task, const mjModel* model,
                      const std::vector<std::vector<double>>& states, uint64_t seed) {
  nlohmann::json json;
  json["schema_version"] = 1;
  json["task"] = task.key;
  json["seed"] = seed;
  json["model_signature"] = model_signature(model);
  json["states"] = states;
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write " + path);
  // Doubles are written with round-trip precision by nlohmann::json.
  out << json.dump(0) << "\n";
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::vector<std::vector<double>> load_init_states(const std::string& path, const mjModel* model) {
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error("cannot read initial states " + path +
                             " (make them with: vla-harness tasks init-states)");
  }
  nlohmann::json json;
  try {
    in >> json;
  } catch (const std::exception& error) {
    throw std::runtime_error(path + ": not valid JSON: " + error.what());
  }
  const std::string signature = model_signature(model);
  if (!json.contains("model_signature") || json["model_signature"] != signature) {
    throw std::runtime_error(path +
                             ": made for a different scene layout; regenerate with "
                             "vla-harness tasks init-states");
  }
  std::vector<std::vector<double>> states;
  try {
    states = json.at("states").get<std::vector<std::vector<double>>>();
  } catch (const std::exception& error) {
    throw std::runtime_error(path + ": 'states' must be a list of number lists: " + error.what());
  }
  for (size_t i = 0; i < states.size(); ++i) {
    if (int(states[i].size()) != model->nq) {
      throw std::runtime_error(path + ": state " + std::to_string(i) + " has " +
                               std::to_string(states[i].size()) +
                               " values, model has nq=" + std::to_string(model->nq));
    }
  }
  return states;
}

}  // namespace tasks
