#include "harness/results.h"

#include <fcntl.h>
#include <mujoco/mujoco.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <stdexcept>

#include "harness/camera_levels.h"
#include "harness/version.h"

namespace harness {


nlohmann::json to_json(const EpisodeResult& result) {
  nlohmann::json json = {{"episode_id", result.episode_id},
                         {"suite", result.suite},
                         {"task_id", result.task_id},
                         {"init_state", result.init_state},
                         {"seed", result.seed},
                         {"success", result.success},
                         {"steps", result.steps},
                         {"end_reason", result.end_reason},
                         {"wall_time_s", result.wall_time_s}};
  if (!result.error.empty()) json["error"] = result.error;
  if (!result.metrics.empty()) json["metrics"] = result.metrics;
  if (!result.timing.empty()) json["timing"] = result.timing;
  if (!result.cameras.empty()) {
    nlohmann::json cameras = nlohmann::json::object();
    for (const auto& [name, camera] : result.cameras) cameras[name] = camera_to_json(camera);
    json["camera_perturbation"] = cameras;
  }
  return json;
}

EpisodeResult episode_from_json(const nlohmann::json& json) {
  EpisodeResult result;
  result.episode_id = json.at("episode_id").get<std::string>();
  result.suite = json.at("suite").get<std::string>();
  result.task_id = json.at("task_id").get<int>();
  result.init_state = json.at("init_state").get<int>();
  result.seed = json.at("seed").get<uint64_t>();
  result.success = json.at("success").get<bool>();
  result.steps = json.at("steps").get<int>();
  result.end_reason = json.at("end_reason").get<std::string>();
  result.error = json.value("error", "");
  result.wall_time_s = json.value("wall_time_s", 0.0);
  if (json.contains("metrics")) result.metrics = json["metrics"].get<std::map<std::string, double>>();
  if (json.contains("timing")) result.timing = json["timing"].get<std::map<std::string, double>>();
  if (json.contains("camera_perturbation")) {
    for (const auto& [name, camera] : json["camera_perturbation"].items()) {
      result.cameras[name] = camera_from_json(camera);
    }
  }
  return result;
}

nlohmann::json make_context(const std::string& command_line, const std::string& policy_name) {
  char host[256] = "unknown";
  gethostname(host, sizeof(host) - 1);
  const std::time_t now = std::time(nullptr);
  char date[64];
  std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return {{"schema_version", kSchemaVersion},
          {"program", "vla-harness"},
          {"git_revision", git_revision()},
          {"mujoco_version", mj_versionString()},
          {"libtorch_version", libtorch_version()},
          {"host", host},
          {"date", date},
          {"command_line", command_line},
          {"policy", policy_name}};
}

Interval wilson_interval(int successes, int n, double z) {
  if (n <= 0) return {0, 1};
  const double p = double(successes) / n;
  const double z2 = z * z;
  const double denominator = 1 + z2 / n;
  const double centre = (p + z2 / (2 * n)) / denominator;
  const double half = z * std::sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / denominator;
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

RecordedRun read_run(const std::string& directory) {
  const std::string path = directory + "/episodes.jsonl";
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path + ": no such results file");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw std::runtime_error("cannot read " + path);
  RecordedRun run;
  const size_t last_newline = text.rfind('\n');
  run.complete_bytes = last_newline == std::string::npos ? 0 : last_newline + 1;
  run.torn_bytes = text.size() - run.complete_bytes;
  std::map<std::string, size_t> index;  // episode id -> position in run.episodes
  int line_number = 0;
  for (size_t begin = 0; begin < run.complete_bytes;) {
    const size_t end = text.find('\n', begin);
    const std::string line = text.substr(begin, end - begin);
    begin = end + 1;
    ++line_number;
    if (line.empty()) continue;
    nlohmann::json json;
    try {
      json = nlohmann::json::parse(line);
    } catch (const std::exception&) {
      throw std::runtime_error(path + ":" + std::to_string(line_number) + ": not valid JSON");
    }
    if (!run.has_context) {
      if (!json.is_object() || !json.contains("context")) {
        throw std::runtime_error(
            path + ":" + std::to_string(line_number) +
            ": expected the {\"context\": ...} line of a vla-harness results file");
      }
      run.context = json["context"];
      run.has_context = true;
      continue;
    }
    EpisodeResult episode;
    try {
      episode = episode_from_json(json);
    } catch (const std::exception& error) {
      throw std::runtime_error(path + ":" + std::to_string(line_number) +
                               ": not an episode: " + error.what());
    }
    const auto [it, inserted] = index.try_emplace(episode.episode_id, run.episodes.size());
    if (inserted) {
      run.episodes.push_back(std::move(episode));
    } else {
      run.episodes[it->second] = std::move(episode);
    }
  }
  return run;
}

ResultStore::ResultStore(const std::string& directory, const nlohmann::json& context)
    : directory_(directory), context_(context) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) throw std::runtime_error("cannot create results directory " + directory + ": " + error.message());
  const std::string path = directory + "/episodes.jsonl";
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::runtime_error("cannot open " + path + " for appending");
  try {
    // One writer per directory: a second process would interleave its lines.
    struct flock lock = {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    if (::fcntl(fd_, F_SETLK, &lock) != 0 && (errno == EACCES || errno == EAGAIN)) {
      throw std::runtime_error(directory + " is being written by another vla-harness process");
    }
    // Resume: read what a previous (possibly killed) run recorded.
    const RecordedRun recorded = read_run(directory);
    if (recorded.has_context) {
      if (recorded.context.is_object() && recorded.context.contains("plan") &&
          context.is_object() && context.contains("plan")) {
        const auto differences = plan_differences(recorded.context["plan"], context["plan"]);
        if (!differences.empty()) {
          std::string message = directory + " was recorded with ";
          for (size_t i = 0; i < differences.size(); ++i) {
            const PlanDifference& d = differences[i];
            message +=
                (i ? "; " : "") + d.field + " " + d.first + ", this run asks for " + d.second;
          }
          throw std::runtime_error(message + ". Use another --out, or remove " + directory +
                                   " to start over");
        }
      }
      context_ = recorded.context;
    }
    for (const EpisodeResult& episode : recorded.episodes) record(episode);
    // A line cut short by a kill is discarded, so the next line starts clean.
    if (recorded.torn_bytes > 0) {
      if (::ftruncate(fd_, off_t(recorded.complete_bytes)) != 0) {
        throw std::runtime_error("cannot cut the torn last line off " + path);
      }
      torn_bytes_discarded_ = recorded.torn_bytes;
      std::fprintf(stderr, "%s: discarded a torn last line (%zu bytes, cut short by a kill)\n",
                   path.c_str(), recorded.torn_bytes);
    }
    if (!recorded.has_context) {
      const std::string header = nlohmann::json{{"context", context}}.dump() + "\n";
      if (::write(fd_, header.data(), header.size()) != ssize_t(header.size()) ||
          ::fsync(fd_) != 0) {
        throw std::runtime_error("cannot write " + path);
      }
    }
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    throw;
  }
}

ResultStore::~ResultStore() {
  if (fd_ >= 0) ::close(fd_);
}

bool ResultStore::has(const std::string& episode_id) const {
  std::lock_guard lock(mutex_);
  return recorded_.count(episode_id) > 0;
}

std::string ResultStore::end_reason(const std::string& episode_id) const {
  std::lock_guard lock(mutex_);
  const auto it = recorded_.find(episode_id);
  return it == recorded_.end() ? "" : episodes_[it->second].end_reason;
}

void ResultStore::record(EpisodeResult result) {
  const auto [it, inserted] = recorded_.try_emplace(result.episode_id, episodes_.size());
  if (inserted) {
    episodes_.push_back(std::move(result));
  } else {
    episodes_[it->second] = std::move(result);
  }
}

void ResultStore::append(const EpisodeResult& result) {
  const std::string line = to_json(result).dump() + "\n";
  std::lock_guard lock(mutex_);
  if (::write(fd_, line.data(), line.size()) != ssize_t(line.size()) || ::fsync(fd_) != 0) {
    throw std::runtime_error("cannot append to " + directory_ + "/episodes.jsonl");
  }
  record(result);
}

std::vector<EpisodeResult> ResultStore::episodes() const {
  std::lock_guard lock(mutex_);
  return episodes_;
}

std::vector<Aggregate> aggregate(const std::vector<EpisodeResult>& episodes,
                                 const GroupOf& group_of) {
  // Suites in first-seen order; tasks by id.
  std::vector<std::string> suite_order;
  std::map<std::string, std::map<int, Aggregate>> by_task;
  for (const EpisodeResult& episode : episodes) {
    if (!by_task.count(episode.suite)) suite_order.push_back(episode.suite);
    Aggregate& row = by_task[episode.suite][episode.task_id];
    row.suite = episode.suite;
    row.task = std::to_string(episode.task_id);
    ++row.episodes;
    row.successes += episode.success;
    row.errors += episode.end_reason == "error" || episode.end_reason == "policy_error";
    for (const auto& [name, value] : episode.metrics) row.metrics[name] += value;
  }
  // Adds `row`'s counts to `total`; rates are averaged by the caller.
  auto pool = [](Aggregate& total, const Aggregate& row) {
    total.episodes += row.episodes;
    total.successes += row.successes;
    total.errors += row.errors;
  };
  // Mean of the members' success rates, and of each metric over the members
  // that have it; Wilson interval of the pooled episodes.
  auto average = [](Aggregate& total, const std::vector<const Aggregate*>& members) {
    total.success_rate = 0;
    total.metrics.clear();
    std::map<std::string, int> counts;
    for (const Aggregate* member : members) {
      total.success_rate += member->success_rate / members.size();
      for (const auto& [name, value] : member->metrics) {
        total.metrics[name] += value;
        ++counts[name];
      }
    }
    for (auto& [name, value] : total.metrics) value /= counts[name];
    total.ci95 = wilson_interval(total.successes, total.episodes);
  };
  std::vector<Aggregate> rows;
  for (const std::string& suite : suite_order) {
    Aggregate total;
    total.suite = suite;
    total.task = "all";
    std::vector<std::string> group_order;
    std::map<std::string, Aggregate> groups;
    std::map<std::string, std::vector<const Aggregate*>> members;
    for (auto& [id, row] : by_task[suite]) {
      row.success_rate = double(row.successes) / row.episodes;
      row.ci95 = wilson_interval(row.successes, row.episodes);
      for (auto& [name, value] : row.metrics) value /= row.episodes;
      pool(total, row);
      rows.push_back(row);
      const std::string group = group_of ? group_of(suite, id) : "";
      const std::string key = group.empty() ? "task " + row.task : group;
      if (!groups.count(key)) group_order.push_back(key);
      Aggregate& group_row = groups[key];
      group_row.suite = suite;
      group_row.task = key;
      group_row.is_group = !group.empty();
      pool(group_row, row);
      members[key].push_back(&by_task[suite][id]);
    }
    const bool grouped =
        std::any_of(groups.begin(), groups.end(), [](const auto& g) { return g.second.is_group; });
    if (grouped) {
      std::vector<const Aggregate*> group_rows;
      for (const std::string& key : group_order) {
        Aggregate& group_row = groups[key];
        average(group_row, members[key]);
        if (group_row.is_group) rows.push_back(group_row);
        group_rows.push_back(&group_row);
      }
      average(total, group_rows);
    } else {
      std::vector<const Aggregate*> task_rows;
      for (auto& [id, row] : by_task[suite]) task_rows.push_back(&row);
      average(total, task_rows);
      total.success_rate = double(total.successes) / total.episodes;
    }
    // SimplerEnv's "overall" for suites whose every task has a grasp metric
    // (Bridge): mean of grasp and success.
    const bool all_grasp = std::all_of(by_task[suite].begin(), by_task[suite].end(),
                                       [](const auto& task) { return task.second.metrics.count("grasp") > 0; });
    if (all_grasp) {
      total.metrics["overall"] = 0.5 * (total.metrics["grasp"] + total.success_rate);
    }
    rows.push_back(total);
  }
  return rows;
}

void write_summary(const std::string& directory, const nlohmann::json& context,
                   const std::vector<Aggregate>& rows) {
  nlohmann::json tasks = nlohmann::json::array(), groups = nlohmann::json::array(),
                 suites = nlohmann::json::array();
  for (const Aggregate& row : rows) {
    nlohmann::json json = {{"suite", row.suite},
                           {"episodes", row.episodes},
                           {"successes", row.successes},
                           {"errors", row.errors},
                           {"success_rate", row.success_rate},
                           {"ci95", {row.ci95.low, row.ci95.high}}};
    if (!row.metrics.empty()) json["metrics"] = row.metrics;
    if (row.task == "all") {
      suites.push_back(json);
    } else if (row.is_group) {
      json["group"] = row.task;
      groups.push_back(json);
    } else {
      json["task_id"] = std::stoi(row.task);
      tasks.push_back(json);
    }
  }
  nlohmann::json summary = {{"context", context}, {"tasks", tasks}, {"suites", suites}};
  if (!groups.empty()) summary["groups"] = groups;
  const std::string path = directory + "/summary.json";
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary);
    out << summary.dump(2) << "\n";
    if (!out) throw std::runtime_error("cannot write " + temporary);
  }
  std::filesystem::rename(temporary, path);
}

std::string format_table(const std::vector<Aggregate>& rows) {
  // Metric columns: every metric any row has (e.g. "grasp"), after success.
  std::set<std::string> metric_names;
  for (const Aggregate& row : rows) {
    for (const auto& [name, value] : row.metrics) metric_names.insert(name);
  }
  std::ostringstream out;
  char line[256];
  std::snprintf(line, sizeof(line), "%-16s %-16s %9s %10s %8s %17s %7s", "suite", "task",
                "episodes", "successes", "success", "95% CI (Wilson)", "errors");
  out << line;
  for (const std::string& name : metric_names) {
    std::snprintf(line, sizeof(line), " %8s", name.c_str());
    out << line;
  }
  out << "\n";
  for (const Aggregate& row : rows) {
    const std::string task = row.is_group ? "[" + row.task + "]" : row.task;
    std::snprintf(line, sizeof(line), "%-16s %-16s %9d %10d %7.1f%% %7.1f - %5.1f%% %7d",
                  row.suite.c_str(), task.c_str(), row.episodes, row.successes,
                  100 * row.success_rate, 100 * row.ci95.low, 100 * row.ci95.high, row.errors);
    out << line;
    for (const std::string& name : metric_names) {
      const auto metric = row.metrics.find(name);
      if (metric == row.metrics.end()) {
        std::snprintf(line, sizeof(line), " %8s", "-");
      } else {
        std::snprintf(line, sizeof(line), " %7.1f%%", 100 * metric->second);
      }
      out << line;
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace harness
