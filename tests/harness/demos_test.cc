// Demonstrations in the LIBERO/robomimic HDF5 layout: the file is reopened with
// the HDF5 C API and every dataset, dtype and attribute is checked; the
// recorded actions replayed from the recorded initial state reach the goal.
#include "harness/demos.h"

#include <doctest/doctest.h>
#include <hdf5.h>
#include <mujoco/mujoco.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tasks/suite.h"
#include "tasks/task_env.h"
#include "test_util.h"

namespace {

using test_util::CommandOutput;
using test_util::run_command;

// Closes an HDF5 identifier at scope end.
struct Handle {
  hid_t id;
  herr_t (*close)(hid_t);
  ~Handle() {
    if (id >= 0) close(id);
  }
};

std::string string_attribute(hid_t object, const char* name) {
  REQUIRE_MESSAGE(H5Aexists(object, name) > 0, "attribute " << name);
  Handle attribute{H5Aopen(object, name, H5P_DEFAULT), H5Aclose};
  Handle type{H5Aget_type(attribute.id), H5Tclose};
  REQUIRE(H5Tget_class(type.id) == H5T_STRING);
  REQUIRE(H5Tis_variable_str(type.id) > 0);
  Handle memory{H5Tcopy(H5T_C_S1), H5Tclose};
  H5Tset_size(memory.id, H5T_VARIABLE);
  H5Tset_cset(memory.id, H5T_CSET_UTF8);
  char* text = nullptr;
  REQUIRE(H5Aread(attribute.id, memory.id, &text) >= 0);
  std::string value(text);
  H5free_memory(text);
  return value;
}

int64_t int_attribute(hid_t object, const char* name) {
  REQUIRE_MESSAGE(H5Aexists(object, name) > 0, "attribute " << name);
  Handle attribute{H5Aopen(object, name, H5P_DEFAULT), H5Aclose};
  Handle type{H5Aget_type(attribute.id), H5Tclose};
  REQUIRE(H5Tget_class(type.id) == H5T_INTEGER);
  int64_t value = -1;
  REQUIRE(H5Aread(attribute.id, H5T_NATIVE_INT64, &value) >= 0);
  return value;
}

std::vector<double> vector_attribute(hid_t object, const char* name) {
  REQUIRE_MESSAGE(H5Aexists(object, name) > 0, "attribute " << name);
  Handle attribute{H5Aopen(object, name, H5P_DEFAULT), H5Aclose};
  Handle space{H5Aget_space(attribute.id), H5Sclose};
  REQUIRE(H5Sget_simple_extent_ndims(space.id) == 1);
  hsize_t size = 0;
  H5Sget_simple_extent_dims(space.id, &size, nullptr);
  std::vector<double> values(size);
  REQUIRE(H5Aread(attribute.id, H5T_NATIVE_DOUBLE, values.data()) >= 0);
  return values;
}

// Checks a dataset's shape and element type; returns its values as doubles.
std::vector<double> read_dataset(hid_t group, const std::string& name, const std::vector<hsize_t>& dims,
                                 H5T_class_t type_class, size_t type_size) {
  INFO("dataset " << name);
  REQUIRE(H5Lexists(group, name.c_str(), H5P_DEFAULT) > 0);
  Handle dataset{H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose};
  REQUIRE(dataset.id >= 0);
  Handle type{H5Dget_type(dataset.id), H5Tclose};
  CHECK(H5Tget_class(type.id) == type_class);
  CHECK(H5Tget_size(type.id) == type_size);
  if (type_class == H5T_INTEGER) CHECK(H5Tget_sign(type.id) == H5T_SGN_NONE);
  Handle space{H5Dget_space(dataset.id), H5Sclose};
  const int rank = H5Sget_simple_extent_ndims(space.id);
  REQUIRE(rank == int(dims.size()));
  std::vector<hsize_t> actual(rank);
  H5Sget_simple_extent_dims(space.id, actual.data(), nullptr);
  CHECK(actual == dims);
  size_t count = 1;
  for (hsize_t d : dims) count *= d;
  std::vector<double> values(count);
  REQUIRE(H5Dread(dataset.id, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0);
  return values;
}

}  // namespace

TEST_CASE("demos: two scripted demonstrations of libero_object/0 in the robomimic HDF5 layout") {
  const std::filesystem::path directory =
      std::filesystem::temp_directory_path() / ("vla_demos_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(directory);
  const std::string out = (directory / "demos.hdf5").string();
  const CommandOutput output =
      run_command(std::string(VLA_BINARY) +
                  " demos --suite libero_object --tasks 0 --policy scripted --episodes-per-task 2"
                  " --image-size 64 --seed 3 --quiet --out " + out + " 2>&1");
  INFO(output.text);
  REQUIRE(output.status == 0);
  CHECK(output.text.find("2/2 demos") != std::string::npos);
  REQUIRE(std::filesystem::exists(out));
  CHECK_FALSE(std::filesystem::exists(out + ".partial"));

  const auto task = tasks::load_task("libero_object", 0);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  Handle file{H5Fopen(out.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
  REQUIRE(file.id >= 0);
  Handle data{H5Gopen2(file.id, "data", H5P_DEFAULT), H5Gclose};
  REQUIRE(data.id >= 0);

  // The file's attributes: environment settings and the language instruction.
  const auto env_args = nlohmann::json::parse(string_attribute(data.id, "env_args"));
  CHECK(env_args.at("env_name") == task->name);
  CHECK(env_args.at("env_kwargs").at("camera_heights") == 64);
  CHECK(env_args.at("env_kwargs").at("suite") == "libero_object");
  CHECK(env_args.at("env_kwargs").at("seed") == 3);
  const auto problem_info = nlohmann::json::parse(string_attribute(data.id, "problem_info"));
  CHECK(problem_info.at("language_instruction") == task->instruction);
  CHECK(problem_info.at("problem_name") == task->name);
  CHECK(string_attribute(data.id, "macros_image_convention") == "opencv");
  CHECK(int_attribute(data.id, "num_demos") == 2);
  CHECK(H5Lexists(data.id, "demo_2", H5P_DEFAULT) == 0);

  int64_t total = 0;
  std::vector<std::vector<double>> init_states;
  for (int index = 0; index < 2; ++index) {
    const std::string name = "demo_" + std::to_string(index);
    INFO(name);
    REQUIRE(H5Lexists(data.id, name.c_str(), H5P_DEFAULT) > 0);
    Handle demo{H5Gopen2(data.id, name.c_str(), H5P_DEFAULT), H5Gclose};
    Handle obs{H5Gopen2(demo.id, "obs", H5P_DEFAULT), H5Gclose};
    REQUIRE(obs.id >= 0);
    const int64_t steps = int_attribute(demo.id, "num_samples");
    REQUIRE(steps > 0);
    REQUIRE(steps <= task->protocol.max_steps);
    total += steps;
    const hsize_t t = hsize_t(steps);
    CHECK(string_attribute(demo.id, "language_instruction") == task->instruction);
    CHECK(string_attribute(demo.id, "task_key") == "libero_object/0");
    CHECK(int_attribute(demo.id, "task_id") == 0);

    // Every dataset: shape and element type.
    const std::vector<double> agentview = read_dataset(obs.id, "agentview_rgb", {t, 64, 64, 3}, H5T_INTEGER, 1);
    const std::vector<double> eye_in_hand =
        read_dataset(obs.id, "eye_in_hand_rgb", {t, 64, 64, 3}, H5T_INTEGER, 1);
    const std::vector<double> ee_pos = read_dataset(obs.id, "ee_pos", {t, 3}, H5T_FLOAT, 8);
    const std::vector<double> ee_ori = read_dataset(obs.id, "ee_ori", {t, 3}, H5T_FLOAT, 8);
    const std::vector<double> gripper = read_dataset(obs.id, "gripper_states", {t, 2}, H5T_FLOAT, 8);
    const std::vector<double> joints = read_dataset(obs.id, "joint_states", {t, 7}, H5T_FLOAT, 8);
    const std::vector<double> actions = read_dataset(demo.id, "actions", {t, 7}, H5T_FLOAT, 8);
    const std::vector<double> dones = read_dataset(demo.id, "dones", {t}, H5T_INTEGER, 1);
    const std::vector<double> rewards = read_dataset(demo.id, "rewards", {t}, H5T_INTEGER, 1);

    // Images have content (not one flat colour) in both cameras.
    auto spread = [](const std::vector<double>& pixels) {
      const auto [low, high] = std::minmax_element(pixels.begin(), pixels.end());
      return *high - *low;
    };
    CHECK(spread(agentview) > 50);
    CHECK(spread(eye_in_hand) > 50);
    for (double value : actions) CHECK(std::abs(value) <= 1.0 + 1e-6);
    // The episode ends at its first success: done and reward on the last step only.
    for (int64_t step = 0; step < steps; ++step) {
      const double expected = step == steps - 1 ? 1.0 : 0.0;
      CHECK(dones[step] == expected);
      CHECK(rewards[step] == expected);
    }
    // The gripper travels (pick and place) over the episode.
    double travel = 0;
    for (int64_t step = 1; step < steps; ++step) {
      double squared = 0;
      for (int i = 0; i < 3; ++i) squared += std::pow(ee_pos[3 * step + i] - ee_pos[i], 2);
      travel = std::max(travel, std::sqrt(squared));
    }
    CHECK(travel > 0.1);
    for (double value : gripper) CHECK(std::abs(value) < 0.05);

    // The initial state is a fresh one, not one of the 50 evaluation states.
    const std::vector<double> init_state = vector_attribute(demo.id, "init_state");
    tasks::TaskEnv env(task, [] {
      envs::EnvSettings settings;
      settings.cameras.clear();
      return settings;
    }());
    const mjModel* model = env.env().model();
    REQUIRE(int(init_state.size()) == model->nq);
    read_dataset(demo.id, "states", {t, hsize_t(model->nq + model->nv)}, H5T_FLOAT, 8);
    for (const auto& stored : task->init_states) CHECK(stored != init_state);
    init_states.push_back(init_state);

    // Replaying the actions from the initial state (after the protocol's wait
    // steps) reproduces the recorded observations and reaches the goal at the last step.
    const envs::Observation* observation = &env.reset_qpos(init_state);
    const envs::Action no_op{0, 0, 0, 0, 0, 0, -1};
    for (int i = 0; i < task->protocol.wait_steps; ++i) observation = env.step(no_op).observation;
    double max_pos_diff = 0, max_joint_diff = 0;
    bool success = false;
    for (int64_t step = 0; step < steps; ++step) {
      for (int i = 0; i < 3; ++i) {
        max_pos_diff = std::max(max_pos_diff, std::abs(observation->proprio[i] - ee_pos[3 * step + i]));
        max_pos_diff = std::max(max_pos_diff, std::abs(observation->proprio[3 + i] - ee_ori[3 * step + i]));
      }
      for (int i = 0; i < 7; ++i) {
        const std::string joint_name = "robot0_joint" + std::to_string(i + 1);
        const int joint = mj_name2id(model, mjOBJ_JOINT, joint_name.c_str());
        max_joint_diff = std::max(
            max_joint_diff, std::abs(env.env().data()->qpos[model->jnt_qposadr[joint]] - joints[7 * step + i]));
      }
      envs::Action action;
      for (int i = 0; i < 7; ++i) action[i] = float(actions[7 * step + i]);
      const tasks::StepResult result = env.step(action);
      observation = result.observation;
      CHECK_MESSAGE(result.success == (step == steps - 1), "step " << step);
      success = result.success;
    }
    MESSAGE(name << ": " << steps << " steps; replay max diff ee " << max_pos_diff << ", joints " << max_joint_diff);
    CHECK(success);
    CHECK(max_pos_diff < 1e-5);
    CHECK(max_joint_diff < 1e-9);
  }
  CHECK(init_states[0] != init_states[1]);
  CHECK(int_attribute(data.id, "total") == total);

  // h5ls, where installed, sees the same layout.
  if (std::system("command -v h5ls > /dev/null 2>&1") == 0) {
    const CommandOutput listing = run_command("h5ls -r " + out);
    INFO(listing.text);
    CHECK(listing.status == 0);
    CHECK(listing.text.find("/data/demo_1/obs/agentview_rgb Dataset {") != std::string::npos);
    CHECK(listing.text.find(", 64, 64, 3}") != std::string::npos);
    CHECK(listing.text.find("/data/demo_0/obs/joint_states Dataset {") != std::string::npos);
  }
  std::filesystem::remove_all(directory);
}

TEST_CASE("demos: refuses the stored states' seed, non-LIBERO suites and bad sizes") {
  const std::string binary = VLA_BINARY;
  const CommandOutput stored_seed = run_command(
      binary + " demos --suite libero_object --tasks 0 --seed 0 --out /tmp/vla_demos_never.hdf5 2>&1");
  CHECK(stored_seed.status == 1);
  CHECK(stored_seed.text.find("--seed 0 is the seed of libero_object/0's stored evaluation states") !=
        std::string::npos);
  const CommandOutput bridge =
      run_command(binary + " demos --suite bridge --out /tmp/vla_demos_never.hdf5 2>&1");
  CHECK(bridge.status == 1);
  CHECK(bridge.text.find("--suite bridge is a bridge suite") != std::string::npos);
  harness::DemoSettings settings;
  settings.suite = "libero_object";
  settings.episodes_per_task = 0;
  CHECK_THROWS_WITH_AS(harness::record_demos(settings), "--episodes-per-task must be at least 1",
                       std::runtime_error);
  CHECK_FALSE(std::filesystem::exists("/tmp/vla_demos_never.hdf5"));
}
