#include "harness/plan.h"

#include <cstdio>
#include <stdexcept>

#include "envs/random.h"
#include "harness/camera_levels.h"

namespace harness {

envs::CameraPerturbation draw_camera_perturbation(const envs::CameraRandomization& randomization,
                                                  uint64_t episode_seed) {
  envs::Rng rng(envs::mix64(episode_seed ^ envs::hash_string("camera")));
  envs::CameraPerturbation perturbation;
  for (double& v : perturbation.position_offset) {
    v = envs::uniform(rng, -randomization.position, randomization.position);
  }
  for (double& v : perturbation.rotation_offset) {
    v = envs::uniform(rng, -randomization.rotation, randomization.rotation);
  }
  perturbation.fovy_delta = envs::uniform(rng, -randomization.fovy, randomization.fovy);
  return perturbation;
}

void parse_shard(const std::string& text, PlanSettings* settings, const std::string& flag) {
  int index = -1, count = -1, consumed = 0;
  if (std::sscanf(text.c_str(), "%d/%d%n", &index, &count, &consumed) != 2 ||
      consumed != int(text.size()) || count < 1 || index < 0 || index >= count) {
    throw std::runtime_error(flag + ": expected K/N with 0 <= K < N (e.g. 0/4), got '" + text +
                             "'");
  }
  settings->shard_index = index;
  settings->shard_count = count;
}

namespace {

std::string hex64(uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(value));
  return text;
}

std::string shard_text(const PlanSettings& settings) {
  return std::to_string(settings.shard_index) + "/" + std::to_string(settings.shard_count);
}

// A plan record's value as text for messages: strings bare, the rest as JSON.
std::string value_text(const nlohmann::json& value) {
  if (value.is_null()) return "(none)";
  return value.is_string() ? value.get<std::string>() : value.dump();
}

}  // namespace

nlohmann::json describe_plan(const PlanSettings& settings, const std::string& policy_spec,
                             const std::vector<EpisodeSpec>* whole_plan) {
  PlanSettings whole = settings;
  whole.shard_index = 0;
  whole.shard_count = 1;
  std::vector<EpisodeSpec> built;
  if (!whole_plan) {
    built = make_plan(whole);
    whole_plan = &built;
  }
  nlohmann::json record = {{"policy", policy_spec},
                           {"suites", expand_suites(settings.suites)},
                           {"tasks", settings.task_ids.empty() ? nlohmann::json("all")
                                                               : nlohmann::json(settings.task_ids)},
                           {"episodes_per_task", settings.episodes_per_task},
                           {"seed", settings.seed},
                           {"camera",
                            {{"position", settings.camera.position},
                             {"rotation", settings.camera.rotation},
                             {"fovy", settings.camera.fovy},
                             {"level", settings.camera_level},
                             {"mode", settings.camera_level >= 0 ? settings.camera_mode
                                                                 : std::string()}}},
                           {"episodes", whole_plan->size()}};
  // Settings that change what a policy does in an episode: a run resumed or
  // merged with other values would mix two experiments.
  if (settings.replan_steps > 0) record["replan_steps"] = settings.replan_steps;
  if (settings.image_size > 0) record["image_size"] = settings.image_size;
  // The identity: the settings above, then every episode in order with its
  // camera perturbations, and each task's protocol and instruction once.
  std::string text = record.dump();
  std::string last_task;
  for (const EpisodeSpec& spec : *whole_plan) {
    if (spec.task && spec.task->key != last_task) {
      last_task = spec.task->key;
      const tasks::Protocol& protocol = spec.task->protocol;
      text += "\ntask " + last_task + " " + std::to_string(protocol.max_steps) + " " +
              std::to_string(protocol.wait_steps) + " " + std::to_string(protocol.control_hz) +
              " " + spec.task->instruction;
    }
    text += "\n" + spec.episode_id + " " + std::to_string(spec.init_state) + " " +
            std::to_string(spec.seed);
    for (const auto& [name, camera] : spec.cameras) {
      text +=
          " " + name +
          nlohmann::json{camera.position_offset, camera.rotation_offset, camera.fovy_delta}.dump();
    }
  }
  const uint64_t plan_id = envs::hash_string(text);
  record["shard"] = shard_text(settings);
  record["plan_id"] = hex64(plan_id);
  record["fingerprint"] = hex64(envs::mix64(plan_id ^ envs::hash_string(shard_text(settings))));
  return record;
}

std::vector<PlanDifference> plan_differences(const nlohmann::json& first,
                                             const nlohmann::json& second, bool ignore_shard) {
  std::vector<PlanDifference> differences;
  for (const char* field :
       {"policy", "suites", "tasks", "episodes_per_task", "seed", "camera", "replan_steps",
        "image_size", "shard"}) {
    if (ignore_shard && std::string(field) == "shard") continue;
    const nlohmann::json a = first.value(field, nlohmann::json()),
                         b = second.value(field, nlohmann::json());
    if (a != b) differences.push_back({field, value_text(a), value_text(b)});
  }
  // Same settings, other episodes: task protocols, instructions or camera draws changed.
  if (differences.empty() && first.value("plan_id", "") != second.value("plan_id", "")) {
    differences.push_back({"episodes", "plan " + first.value("plan_id", std::string("(none)")),
                           "plan " + second.value("plan_id", std::string("(none)")) +
                               " (task protocols, instructions or camera draws differ)"});
  }
  return differences;
}

PlanSettings plan_settings_from(const nlohmann::json& record) {
  PlanSettings settings;
  try {
    settings.suites = record.at("suites").get<std::vector<std::string>>();
    settings.task_ids.clear();
    if (!record.at("tasks").is_string())
      settings.task_ids = record.at("tasks").get<std::vector<int>>();
    settings.episodes_per_task = record.at("episodes_per_task").get<int>();
    settings.seed = record.at("seed").get<uint64_t>();
    const nlohmann::json& camera = record.at("camera");
    settings.camera.position = camera.at("position").get<double>();
    settings.camera.rotation = camera.at("rotation").get<double>();
    settings.camera.fovy = camera.at("fovy").get<double>();
    settings.camera_level = camera.value("level", -1);
    settings.replan_steps = record.value("replan_steps", 0);
    settings.image_size = record.value("image_size", 0);
    if (settings.camera_level >= 0) settings.camera_mode = camera.at("mode").get<std::string>();
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error(std::string("plan record: ") + error.what());
  }
  parse_shard(record.value("shard", std::string("0/1")), &settings, "plan record shard");
  return settings;
}

std::vector<std::string> expand_suites(const std::vector<std::string>& names) {
  std::vector<std::string> expanded;
  for (const std::string& name : names) {
    bool family = false;
    for (const tasks::SuiteInfo& suite : tasks::suites()) {
      if (suite.family == name && suite.name != name) {
        expanded.push_back(suite.name);
        family = true;
      }
    }
    if (!family) expanded.push_back(name);
  }
  return expanded;
}

std::vector<EpisodeSpec> make_plan(const PlanSettings& settings) {
  if (settings.shard_count < 1 || settings.shard_index < 0 ||
      settings.shard_index >= settings.shard_count) {
    throw std::runtime_error("shard " + std::to_string(settings.shard_index) + "/" +
                             std::to_string(settings.shard_count) + " is out of range");
  }
  const bool perturb = settings.camera.position > 0 || settings.camera.rotation > 0 ||
                       settings.camera.fovy > 0;
  if (perturb && settings.camera_level >= 0) {
    throw std::runtime_error(
        "a camera level excludes custom camera perturbations "
        "(--camera-position/--camera-rotation/--camera-fovy)");
  }
  if (settings.camera_level >= 0) camera_level(settings.camera_level);  // range check
  const CameraMode camera_mode = parse_camera_mode(settings.camera_mode);
  std::vector<EpisodeSpec> plan;
  int index = 0;
  for (const std::string& suite_name : expand_suites(settings.suites)) {
    const tasks::SuiteInfo& suite = tasks::find_suite(suite_name);
    std::vector<int> ids = settings.task_ids;
    if (ids.empty()) {
      for (int i = 0; i < suite.task_count(); ++i) ids.push_back(i);
    }
    for (int id : ids) {
      auto task = tasks::load_task(suite.name, id);
      const int episodes = settings.episodes_per_task > 0 ? settings.episodes_per_task
                                                          : task->protocol.episodes_per_task;
      if (episodes > task->episodes) {
        throw std::runtime_error(task->key + " has " + std::to_string(task->episodes) +
                                 (task->family == "libero" ? " stored initial states" : " episode layouts") +
                                 "; asked for " + std::to_string(episodes) + " episodes");
      }
      for (int state = 0; state < episodes; ++state, ++index) {
        if (index % settings.shard_count != settings.shard_index) continue;
        EpisodeSpec spec;
        spec.suite = suite.name;
        spec.task_id = id;
        spec.init_state = state;
        spec.episode_id = task->key + "/" + std::to_string(state);
        spec.seed = envs::derive_seed(settings.seed, spec.episode_id, "episode");
        if (perturb) {
          spec.cameras["agentview"] = draw_camera_perturbation(settings.camera, spec.seed);
        } else if (settings.camera_level >= 0) {
          spec.cameras["agentview"] = draw_camera_level(
              settings.camera_level, camera_mode, spec.seed, known_look_at(*task, "agentview"));
        }
        spec.task = task;
        plan.push_back(std::move(spec));
      }
    }
  }
  return plan;
}

}  // namespace harness
