#include "harness/demos.h"

#include <CLI/CLI.hpp>
#include <hdf5.h>
#include <mujoco/mujoco.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "envs/random.h"
#include "harness/camera_levels.h"
#include "harness/registry.h"
#include "tasks/init_states.h"
#include "tasks/suite.h"
#include "tasks/task_env.h"

namespace harness {

namespace {

constexpr const char* kCameras[] = {"agentview", "eye_in_hand"};

// One HDF5 identifier, closed with its own close function.
class Hid {
 public:
  Hid(hid_t id, herr_t (*close)(hid_t), const std::string& what) : id_(id), close_(close) {
    if (id_ < 0) throw std::runtime_error("HDF5: cannot create " + what);
  }
  ~Hid() {
    if (id_ >= 0) close_(id_);
  }
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  operator hid_t() const { return id_; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

void check(herr_t status, const std::string& what) {
  if (status < 0) throw std::runtime_error("HDF5: cannot write " + what);
}

void write_string_attribute(hid_t object, const std::string& name, const std::string& value) {
  Hid type(H5Tcopy(H5T_C_S1), H5Tclose, "string type");
  check(H5Tset_size(type, H5T_VARIABLE), "string type");
  check(H5Tset_cset(type, H5T_CSET_UTF8), "string type");
  Hid space(H5Screate(H5S_SCALAR), H5Sclose, "attribute " + name);
  Hid attribute(H5Acreate2(object, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                "attribute " + name);
  const char* text = value.c_str();
  check(H5Awrite(attribute, type, &text), "attribute " + name);
}

void write_int_attribute(hid_t object, const std::string& name, int64_t value) {
  Hid space(H5Screate(H5S_SCALAR), H5Sclose, "attribute " + name);
  Hid attribute(H5Acreate2(object, name.c_str(), H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT),
                H5Aclose, "attribute " + name);
  check(H5Awrite(attribute, H5T_NATIVE_INT64, &value), "attribute " + name);
}

void write_uint_attribute(hid_t object, const std::string& name, uint64_t value) {
  Hid space(H5Screate(H5S_SCALAR), H5Sclose, "attribute " + name);
  Hid attribute(H5Acreate2(object, name.c_str(), H5T_STD_U64LE, space, H5P_DEFAULT, H5P_DEFAULT),
                H5Aclose, "attribute " + name);
  check(H5Awrite(attribute, H5T_NATIVE_UINT64, &value), "attribute " + name);
}

void write_vector_attribute(hid_t object, const std::string& name, const std::vector<double>& values) {
  const hsize_t size = values.size();
  Hid space(H5Screate_simple(1, &size, nullptr), H5Sclose, "attribute " + name);
  Hid attribute(H5Acreate2(object, name.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT),
                H5Aclose, "attribute " + name);
  check(H5Awrite(attribute, H5T_NATIVE_DOUBLE, values.data()), "attribute " + name);
}

// A dataset of `dims` written from `data` (memory type `memory_type`, file type
// `file_type`); `chunk_rows` > 0 chunks it by that many rows along the first
// axis and compresses it at gzip `level`.
void write_dataset(hid_t group, const std::string& name, hid_t file_type, hid_t memory_type,
                   const std::vector<hsize_t>& dims, const void* data, int level = 0) {
  Hid space(H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose, "dataset " + name);
  Hid properties(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "dataset " + name);
  if (level > 0 && dims[0] > 0) {
    std::vector<hsize_t> chunk = dims;
    chunk[0] = 1;
    check(H5Pset_chunk(properties, int(chunk.size()), chunk.data()), "dataset " + name);
    check(H5Pset_deflate(properties, unsigned(level)), "dataset " + name);
  }
  Hid dataset(H5Dcreate2(group, name.c_str(), file_type, space, H5P_DEFAULT, properties, H5P_DEFAULT),
              H5Dclose, "dataset " + name);
  check(H5Dwrite(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "dataset " + name);
}

// One episode's frames, reserved once for a task's longest episode.
struct Recording {
  std::vector<uint8_t> agentview, eye_in_hand;  // T x H x W x 3
  std::vector<double> ee_pos, ee_ori, gripper, joints, actions, states;
  std::vector<uint8_t> dones, rewards;
  int steps = 0;

  void reserve(int max_steps, size_t image_bytes, size_t state_size) {
    agentview.reserve(max_steps * image_bytes);
    eye_in_hand.reserve(max_steps * image_bytes);
    ee_pos.reserve(max_steps * 3);
    ee_ori.reserve(max_steps * 3);
    gripper.reserve(max_steps * 2);
    joints.reserve(max_steps * 7);
    actions.reserve(max_steps * 7);
    states.reserve(max_steps * state_size);
    dones.reserve(max_steps);
    rewards.reserve(max_steps);
  }
  void clear() {
    for (auto* bytes : {&agentview, &eye_in_hand, &dones, &rewards}) bytes->clear();
    for (auto* values : {&ee_pos, &ee_ori, &gripper, &joints, &actions, &states}) values->clear();
    steps = 0;
  }
};

const envs::Image& camera_image(const envs::Observation& observation, const char* camera, int size) {
  const auto found = observation.images.find(camera);
  if (found == observation.images.end() || found->second.width != size || found->second.height != size) {
    throw std::runtime_error(std::string("demos: no ") + std::to_string(size) + " px '" + camera +
                             "' image in the observation");
  }
  return found->second;
}

// Appends observation `observation` (before `action`) and the action's outcome.
void record_step(const envs::Observation& observation, const mjData* data, const mjModel* model,
                 const std::vector<int>& joint_addresses, const envs::Action& action, bool success,
                 int image_size, Recording* recording) {
  const envs::Image& agentview = camera_image(observation, kCameras[0], image_size);
  const envs::Image& eye_in_hand = camera_image(observation, kCameras[1], image_size);
  recording->agentview.insert(recording->agentview.end(), agentview.pixels.begin(), agentview.pixels.end());
  recording->eye_in_hand.insert(recording->eye_in_hand.end(), eye_in_hand.pixels.begin(),
                                eye_in_hand.pixels.end());
  const std::vector<float>& proprio = observation.proprio;
  for (int i = 0; i < 3; ++i) recording->ee_pos.push_back(proprio[i]);
  for (int i = 3; i < 6; ++i) recording->ee_ori.push_back(proprio[i]);
  for (int i = 6; i < 8; ++i) recording->gripper.push_back(proprio[i]);
  for (int address : joint_addresses) recording->joints.push_back(data->qpos[address]);
  for (float value : action) recording->actions.push_back(value);
  recording->states.insert(recording->states.end(), data->qpos, data->qpos + model->nq);
  recording->states.insert(recording->states.end(), data->qvel, data->qvel + model->nv);
  recording->dones.push_back(success ? 1 : 0);
  recording->rewards.push_back(success ? 1 : 0);
  ++recording->steps;
}

uint64_t stored_states_seed(const tasks::TaskDefinition& task) {
  std::ifstream in(task.init_states_file);
  nlohmann::json json;
  try {
    in >> json;
    return json.at("seed").get<uint64_t>();
  } catch (const std::exception& error) {
    throw std::runtime_error(task.init_states_file + ": no readable 'seed': " + error.what());
  }
}

bool equals_stored_state(const tasks::TaskDefinition& task, const std::vector<double>& qpos) {
  for (const auto& stored : task.init_states) {
    if (stored.size() != qpos.size()) continue;
    bool same = true;
    for (size_t i = 0; i < qpos.size() && same; ++i) same = std::abs(stored[i] - qpos[i]) <= 1e-9;
    if (same) return true;
  }
  return false;
}

nlohmann::json problem_info_of(const tasks::TaskDefinition& task) {
  return {{"problem_name", task.name},
          {"domain_name", task.suite},
          {"task_id", task.id},
          {"language_instruction", task.instruction},
          {"bddl_file", task.spec.file.empty() ? "" : std::filesystem::path(task.spec.file).filename().string()}};
}

void write_demo(hid_t data_group, int index, const Recording& recording, const tasks::TaskDefinition& task,
                const std::vector<double>& init_state, uint64_t init_state_seed, uint64_t episode_seed,
                const envs::CameraPerturbation* camera, const DemoSettings& settings, int state_size) {
  const std::string name = "demo_" + std::to_string(index);
  Hid demo(H5Gcreate2(data_group, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
           "group data/" + name);
  Hid obs(H5Gcreate2(demo, "obs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
          "group data/" + name + "/obs");
  const hsize_t steps = hsize_t(recording.steps);
  const hsize_t size = hsize_t(settings.image_size);
  write_dataset(obs, "agentview_rgb", H5T_STD_U8LE, H5T_NATIVE_UINT8, {steps, size, size, 3},
                recording.agentview.data(), settings.compression);
  write_dataset(obs, "eye_in_hand_rgb", H5T_STD_U8LE, H5T_NATIVE_UINT8, {steps, size, size, 3},
                recording.eye_in_hand.data(), settings.compression);
  write_dataset(obs, "ee_pos", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {steps, 3}, recording.ee_pos.data());
  write_dataset(obs, "ee_ori", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {steps, 3}, recording.ee_ori.data());
  write_dataset(obs, "gripper_states", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {steps, 2},
                recording.gripper.data());
  write_dataset(obs, "joint_states", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {steps, 7}, recording.joints.data());
  write_dataset(demo, "actions", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {steps, 7}, recording.actions.data());
  write_dataset(demo, "states", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {steps, hsize_t(state_size)},
                recording.states.data());
  write_dataset(demo, "dones", H5T_STD_U8LE, H5T_NATIVE_UINT8, {steps}, recording.dones.data());
  write_dataset(demo, "rewards", H5T_STD_U8LE, H5T_NATIVE_UINT8, {steps}, recording.rewards.data());
  write_int_attribute(demo, "num_samples", recording.steps);
  write_vector_attribute(demo, "init_state", init_state);
  write_int_attribute(demo, "task_id", task.id);
  write_string_attribute(demo, "task_key", task.key);
  write_string_attribute(demo, "language_instruction", task.instruction);
  write_uint_attribute(demo, "init_state_seed", init_state_seed);
  write_uint_attribute(demo, "seed", episode_seed);
  write_string_attribute(demo, "camera", camera ? camera_to_json(*camera).dump() : "null");
}

}  // namespace

DemoStats record_demos(const DemoSettings& settings) {
  const auto start = std::chrono::steady_clock::now();
  const tasks::SuiteInfo& suite = tasks::find_suite(settings.suite);
  if (suite.family != "libero") {
    throw std::runtime_error("--suite " + suite.name + " is a " + suite.family +
                             " suite: demonstrations need a LIBERO-style suite (sampled initial states)");
  }
  if (settings.episodes_per_task < 1) throw std::runtime_error("--episodes-per-task must be at least 1");
  if (settings.image_size < 8) throw std::runtime_error("--image-size must be at least 8 px");
  if (settings.compression < 0 || settings.compression > 9) {
    throw std::runtime_error("--compression must be a gzip level 0..9");
  }
  const int max_attempts =
      settings.max_attempts > 0 ? settings.max_attempts : 2 * settings.episodes_per_task + 10;
  std::optional<CameraMode> camera_mode;
  if (settings.camera_level >= 0) {
    camera_level(settings.camera_level);  // validates the level
    camera_mode = parse_camera_mode(settings.camera_mode);
  }
  std::vector<int> ids = settings.task_ids;
  if (ids.empty()) {
    for (int id = 0; id < suite.task_count(); ++id) ids.push_back(id);
  }
  // Every task is loaded (and its seed checked) before anything runs.
  std::vector<std::shared_ptr<const tasks::TaskDefinition>> task_list;
  for (int id : ids) {
    auto task = tasks::load_task(suite.name, id);
    const uint64_t stored_seed = stored_states_seed(*task);
    if (stored_seed == settings.seed) {
      throw std::runtime_error("--seed " + std::to_string(settings.seed) + " is the seed of " + task->key +
                               "'s stored evaluation states (" + task->init_states_file +
                               "); demonstrations need another seed");
    }
    task_list.push_back(task);
  }

  auto policy = make_policy(settings.policy);
  const policies::PolicyInfo info = policy->info();
  const size_t open_loop = size_t(std::max(1, info.open_loop_steps));
  envs::EnvSettings env_settings;
  env_settings.cameras = {kCameras[0], kCameras[1]};
  for (const std::string& camera : info.cameras) {
    if (std::find(env_settings.cameras.begin(), env_settings.cameras.end(), camera) ==
        env_settings.cameras.end()) {
      env_settings.cameras.push_back(camera);
    }
  }
  env_settings.render = settings.render;
  env_settings.render.width = env_settings.render.height = settings.image_size;

  // The file: written beside the target and renamed when complete.
  const std::string partial = settings.out + ".partial";
  if (const auto parent = std::filesystem::path(settings.out).parent_path(); !parent.empty()) {
    std::filesystem::create_directories(parent);
  }
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  DemoStats stats;
  {
    Hid file(H5Fcreate(partial.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose,
             "file " + partial + " (--out)");
    Hid data(H5Gcreate2(file, "data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, "group data");
    nlohmann::json task_infos = nlohmann::json::array();
    const tasks::Protocol& protocol = task_list.front()->protocol;
    for (const auto& task_pointer : task_list) {
      const tasks::TaskDefinition& task = *task_pointer;
      task_infos.push_back(problem_info_of(task));
      DemoTaskStats task_stats;
      task_stats.task_key = task.key;
      tasks::TaskEnv env(task_pointer, env_settings);
      const mjModel* model = env.env().model();
      std::vector<int> joint_addresses;
      for (int i = 1; i <= 7; ++i) {
        const std::string joint_name = "robot0_joint" + std::to_string(i);
        const int joint = mj_name2id(model, mjOBJ_JOINT, joint_name.c_str());
        if (joint < 0) throw std::runtime_error(task.key + ": model has no joint " + joint_name);
        joint_addresses.push_back(model->jnt_qposadr[joint]);
      }
      // Initial states: the stored states' sampler with this seed (state i of
      // a stream equals make_init_states' state i), in a camera-less env.
      envs::EnvSettings sampler_settings;
      sampler_settings.cameras.clear();
      envs::Env sampler(task.scene.mjcf, sampler_settings);
      const tasks::InitStateSettings init_settings;
      const int state_size = model->nq + model->nv;
      Recording recording;
      recording.reserve(task.protocol.max_steps,
                        size_t(settings.image_size) * settings.image_size * 3, size_t(state_size));
      const envs::Action no_op{0, 0, 0, 0, 0, 0, -1};
      for (int attempt = 0; attempt < max_attempts && task_stats.demos < settings.episodes_per_task;
           ++attempt) {
        const std::string episode_id = task.key + "/" + std::to_string(attempt);
        const uint64_t state_seed = envs::derive_seed(settings.seed, episode_id, "init_state");
        const tasks::InitStateSample sample = tasks::sample_init_state(task, sampler, state_seed, init_settings);
        if (equals_stored_state(task, sample.qpos)) {
          ++task_stats.stored_state_clashes;
          continue;
        }
        const uint64_t episode_seed = envs::derive_seed(settings.seed, episode_id, "demo");
        std::map<std::string, envs::CameraPerturbation> cameras;
        if (camera_mode) {
          cameras["agentview"] = draw_camera_level(settings.camera_level, *camera_mode, episode_seed,
                                                   known_look_at(task, "agentview"));
        }
        const auto episode_start = std::chrono::steady_clock::now();
        ++task_stats.attempts;
        recording.clear();
        policy->reset(0, episode_seed);
        const envs::Observation* observation = &env.reset_qpos(sample.qpos, cameras);
        for (int i = 0; i < task.protocol.wait_steps; ++i) observation = env.step(no_op).observation;
        policies::ActionChunk chunk;
        size_t next = 0;
        bool success = false;
        std::string error;
        try {
          while (recording.steps < task.protocol.max_steps && !success) {
            if (next >= chunk.size() || next >= open_loop) {
              const policies::PolicyQuery query{0, observation};
              chunk = policy->act(std::span<const policies::PolicyQuery>(&query, 1)).at(0);
              next = 0;
              if (chunk.empty()) throw std::runtime_error("policy returned an empty action chunk");
            }
            const envs::Action action = chunk[next++];
            // The observation is recorded with its simulator state, before the step.
            record_step(*observation, env.env().data(), model, joint_addresses, action, false,
                        settings.image_size, &recording);
            const tasks::StepResult step = env.step(action);
            observation = step.observation;
            success = step.success;
          }
        } catch (const std::exception& failure) {
          error = failure.what();
        }
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - episode_start).count();
        if (success) {
          recording.dones.back() = 1;
          recording.rewards.back() = 1;
          const envs::CameraPerturbation* camera = camera_mode ? &cameras["agentview"] : nullptr;
          write_demo(data, stats.demos, recording, task, sample.qpos, state_seed, episode_seed, camera,
                     settings, state_size);
          ++stats.demos;
          ++task_stats.demos;
          task_stats.steps += recording.steps;
          stats.samples += recording.steps;
        }
        if (!settings.quiet) {
          std::fprintf(stderr, "%s: %s in %d steps (%.1f s)%s%s; %d/%d demos\n", episode_id.c_str(),
                       success ? "success" : "failure", recording.steps, seconds, error.empty() ? "" : ": ",
                       error.c_str(), task_stats.demos, settings.episodes_per_task);
        }
      }
      stats.tasks.push_back(task_stats);
    }

    // The file's description: environment settings and the problem(s).
    const bool single = task_list.size() == 1;
    const tasks::TaskDefinition& first = *task_list.front();
    nlohmann::json env_kwargs = {
        {"suite", suite.name},
        {"family", suite.family},
        {"task_ids", ids},
        {"camera_names", env_settings.cameras},
        {"camera_heights", settings.image_size},
        {"camera_widths", settings.image_size},
        {"control_freq", protocol.control_hz},
        {"max_steps", protocol.max_steps},
        {"wait_steps", protocol.wait_steps},
        {"controller", env_settings.control == envs::ArmControl::kOsc ? "OSC_POSE" : "IK_POSE"},
        {"action_scale", {{"position_m", 0.05}, {"rotation_rad", 0.5}}},
        {"camera_level", settings.camera_level},
        {"camera_mode", settings.camera_level >= 0 ? settings.camera_mode : ""},
        {"policy", settings.policy},
        {"seed", settings.seed}};
    const nlohmann::json env_args = {
        {"env_name", single ? first.name : suite.name}, {"type", "vla-harness"}, {"env_kwargs", env_kwargs}};
    nlohmann::json problem_info = single ? problem_info_of(first)
                                         : nlohmann::json{{"problem_name", suite.name},
                                                          {"domain_name", suite.name},
                                                          {"language_instruction", ""}};
    problem_info["tasks"] = task_infos;
    write_string_attribute(data, "env_args", env_args.dump());
    write_string_attribute(data, "problem_info", problem_info.dump());
    write_string_attribute(data, "macros_image_convention", "opencv");
    write_int_attribute(data, "total", stats.samples);
    write_int_attribute(data, "num_demos", stats.demos);
    if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) throw std::runtime_error("HDF5: cannot flush " + partial);
  }
  std::filesystem::rename(partial, settings.out);
  stats.wall_time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

void add_demos_command(CLI::App& app) {
  auto* demos = app.add_subcommand(
      "demos", "Record successful episodes as demonstrations in the LIBERO/robomimic HDF5 layout");
  auto settings = std::make_shared<DemoSettings>();
  auto tasks_text = std::make_shared<std::string>("all");
  auto gl_backend = std::make_shared<std::string>("osmesa");
  demos->add_option("--suite", settings->suite, "LIBERO-style suite (e.g. libero_object)")->required();
  demos->add_option("--tasks", *tasks_text, "Task ids, comma separated, or 'all'")->capture_default_str();
  demos->add_option("--policy", settings->policy, "Policy recording the episodes")->capture_default_str();
  demos->add_option("--episodes-per-task", settings->episodes_per_task, "Successful demonstrations per task")
      ->capture_default_str();
  demos->add_option("--max-attempts", settings->max_attempts,
                    "Episodes tried per task at most (default 2 x episodes-per-task + 10)");
  demos->add_option("--seed", settings->seed,
                    "Initial-state sampling seed (must differ from the stored evaluation states')")
      ->capture_default_str();
  demos->add_option("--out", settings->out, "HDF5 file")->capture_default_str();
  demos->add_option("--image-size", settings->image_size, "Camera image size in px")->capture_default_str();
  demos->add_option("--camera-level", settings->camera_level, "Agentview pose randomization level 0..5")
      ->check(CLI::Range(0, kMaxCameraLevel));
  demos->add_option("--camera-mode", settings->camera_mode, "With --camera-level: orbit or free")
      ->capture_default_str();
  demos->add_option("--compression", settings->compression, "gzip level of the images (0: none)")
      ->capture_default_str();
  demos->add_option("--gl", *gl_backend, "GL backend: osmesa or egl")->capture_default_str();
  demos->add_flag("--quiet", settings->quiet, "No line per episode");
  demos->callback([settings, tasks_text, gl_backend] {
    DemoSettings run = *settings;
    if (!tasks_text->empty() && *tasks_text != "all") {
      std::stringstream stream(*tasks_text);
      std::string item;
      while (std::getline(stream, item, ',')) {
        const int id = tasks::parse_task_id(item);
        if (id < 0) throw std::runtime_error("--tasks: '" + item + "' is not a task id (use e.g. 0,1,2 or all)");
        run.task_ids.push_back(id);
      }
    }
    run.render.backend = envs::parse_gl_backend(*gl_backend);
    const DemoStats stats = record_demos(run);
    std::string short_tasks;
    for (const DemoTaskStats& task : stats.tasks) {
      std::printf("%-20s %d/%d demos from %d episodes, %ld steps%s\n", task.task_key.c_str(), task.demos,
                  run.episodes_per_task, task.attempts, task.steps,
                  task.stored_state_clashes ? " (sampled states equal to stored ones skipped)" : "");
      if (task.demos < run.episodes_per_task) short_tasks += (short_tasks.empty() ? "" : ", ") + task.task_key;
    }
    std::printf("wrote %s: %d demos, %ld samples in %.1f s\n", run.out.c_str(), stats.demos, stats.samples,
                stats.wall_time_s);
    if (!short_tasks.empty()) {
      throw std::runtime_error("fewer successful episodes than --episodes-per-task within --max-attempts for " +
                               short_tasks + " (the file keeps the ones recorded)");
    }
  });
}

}  // namespace harness
