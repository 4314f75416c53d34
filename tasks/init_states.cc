#include "tasks/init_states.h"

#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "envs/panda.h"
#include "envs/random.h"

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

std::vector<double> sample_init_state(const TaskDefinition& task, envs::Env& env,
                                      uint64_t state_seed, const InitStateSettings& settings) {
  const mjModel* model = env.model();
  envs::Rng rng(state_seed);
  std::vector<double> qpos(model->qpos0, model->qpos0 + model->nq);
  set_robot_init_qpos(model, qpos.data());
  // Site frames of the regions come from the model at its reference pose.
  envs::ResetSpec reset;
  reset.qpos = qpos;
  env.reset(reset);
  const mjData* data = env.data();

  struct Placed {
    double x, y, radius;
  };
  std::vector<Placed> placed;
  for (const PlacementRule& rule : task.scene.placements) {
    const auto site_it = task.scene.region_sites.find(rule.region_site);
    const std::string site_name = site_it == task.scene.region_sites.end() ? rule.region_site
                                                                           : site_it->second;
    const int site = mj_name2id(model, mjOBJ_SITE, site_name.c_str());
    if (site < 0) throw std::runtime_error(task.key + ": no region site " + site_name);
    const envs::assets::ObjectInfo* info = task.scene.find(rule.object);
    const int joint = mj_name2id(model, mjOBJ_JOINT, (rule.object + "_joint").c_str());
    if (!info || joint < 0 || model->jnt_type[joint] != mjJNT_FREE) {
      throw std::runtime_error(task.key + ": object " + rule.object + " has no free joint");
    }
    const double* size = model->site_size + 3 * site;
    const double* site_pos = data->site_xpos + 3 * site;
    const double* site_mat = data->site_xmat + 9 * site;
    const double radius = std::max(info->half_extents[0], info->half_extents[1]);
    bool ok = false;
    for (int attempt = 0; attempt < settings.max_tries && !ok; ++attempt) {
      const double local[3] = {envs::uniform(rng, -size[0], size[0]),
                               envs::uniform(rng, -size[1], size[1]), size[2]};
      double world[3];
      mju_mulMatVec(world, site_mat, local, 3, 3);
      mju_addTo3(world, site_pos);
      ok = true;
      for (const Placed& other : placed) {
        if (std::hypot(world[0] - other.x, world[1] - other.y) <
            radius + other.radius + settings.clearance) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      const double site_yaw = std::atan2(site_mat[3], site_mat[0]);
      const double yaw = site_yaw + envs::uniform(rng, rule.yaw_range[0], rule.yaw_range[1]);
      double* q = qpos.data() + model->jnt_qposadr[joint];
      q[0] = world[0];
      q[1] = world[1];
      q[2] = world[2] + info->bottom_z + 0.002;
      q[3] = std::cos(yaw / 2);
      q[4] = 0;
      q[5] = 0;
      q[6] = std::sin(yaw / 2);
      placed.push_back({world[0], world[1], radius});
    }
    if (!ok) {
      throw std::runtime_error(task.key + ": could not place " + rule.object + " in " +
                               rule.region_site + " without overlap");
    }
  }

  // Settle: the robot holds its posture with the gripper open.
  reset.qpos = qpos;
  env.reset(reset);
  for (int step = 0; step < settings.settle_steps; ++step) {
    env.step(envs::Action{0, 0, 0, 0, 0, 0, -1});
  }
  std::vector<double> settled(env.data()->qpos, env.data()->qpos + model->nq);
  // The arm starts exactly at its init posture; objects where physics left them.
  set_robot_init_qpos(model, settled.data());
  for (const PlacementRule& rule : task.scene.placements) {
    const int joint = mj_name2id(model, mjOBJ_JOINT, (rule.object + "_joint").c_str());
    const double z = settled[model->jnt_qposadr[joint] + 2];
    if (z < task.scene.table_top_z - 0.05) {
      throw std::runtime_error(task.key + ": " + rule.object + " fell while settling");
    }
  }
  return settled;
}

std::vector<std::vector<double>> make_init_states(const TaskDefinition& task,
                                                  const InitStateSettings& settings) {
  envs::EnvSettings env_settings;
  env_settings.cameras.clear();
  envs::Env env(task.scene.mjcf, env_settings);
  std::vector<std::vector<double>> states;
  for (int i = 0; i < settings.count; ++i) {
    const uint64_t seed = envs::derive_seed(settings.seed, task.key + "/" + std::to_string(i),
                                            "init_state");
    states.push_back(sample_init_state(task, env, seed, settings));
  }
  return states;
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
    throw std::runtime_error(path + ": made for a different scene layout; regenerate with "
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
                               std::to_string(states[i].size()) + " values, model has nq=" +
                               std::to_string(model->nq));
    }
  }
  return states;
}

}  // namespace tasks
