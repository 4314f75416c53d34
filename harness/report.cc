#include "harness/report.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>

#include "harness/sim_real.h"
#include "tasks/suite.h"

namespace harness {

namespace {

namespace fs = std::filesystem;

// ---- Helpers ----

std::string percent(double fraction) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f%%", 100 * fraction);
  return text;
}

std::string number(double value, const char* format = "%g") {
  char text[48];
  std::snprintf(text, sizeof(text), format, value);
  return text;
}

// Markdown table cells must not break the table.
std::string markdown_cell(std::string text) {
  for (size_t at = text.find('|'); at != std::string::npos; at = text.find('|', at + 2)) {
    text.replace(at, 1, "\\|");
  }
  return text;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

// Task name and group per task id of a suite, from the registry (cached).
struct RegistryTask {
  std::string name;   // e.g. "put_carrot_on_plate"; LIBERO-style: the instruction
  std::string group;  // "" for none
};
const std::vector<RegistryTask>& registry_tasks(const std::string& suite_name) {
  static std::mutex mutex;
  static std::map<std::string, std::vector<RegistryTask>> cache;
  std::lock_guard lock(mutex);
  const auto found = cache.find(suite_name);
  if (found != cache.end()) return found->second;
  std::vector<RegistryTask>& tasks_of_suite = cache[suite_name];
  const auto& suites = tasks::suites();
  const auto suite = std::find_if(suites.begin(), suites.end(),
                                  [&](const tasks::SuiteInfo& s) { return s.name == suite_name; });
  if (suite == suites.end()) return tasks_of_suite;
  if (suite->definitions) {
    for (const tasks::TaskDefinition& task : suite->definitions()) {
      tasks_of_suite.push_back({task.name, task.group});
    }
  }
  // LIBERO-style task files are numbered; their instructions say what they are.
  for (const std::string& file : suite->task_files) {
    std::string name = fs::path(file).stem().string();
    try {
      name = tasks::load_bddl((fs::path(tasks::tasks_directory()) / file).string()).language;
    } catch (const std::exception&) {
      // An unreadable task file leaves the file name; the report does not need the task.
    }
    tasks_of_suite.push_back({name, ""});
  }
  return tasks_of_suite;
}

std::string registry_group(const std::string& suite, int task_id) {
  const auto& tasks_of_suite = registry_tasks(suite);
  return task_id >= 0 && size_t(task_id) < tasks_of_suite.size() ? tasks_of_suite[task_id].group
                                                                 : "";
}

// The value following `flag` in a recorded command line ("--flag V" or "--flag=V").
std::string command_line_value(const std::string& command_line, const std::string& flag) {
  std::istringstream words(command_line);
  std::string word;
  while (words >> word) {
    if (word == flag) {
      std::string value;
      words >> value;
      return value;
    }
    if (word.rfind(flag + "=", 0) == 0) return word.substr(flag.size() + 1);
  }
  return "";
}

double parse_double_or(const std::string& text, double fallback) {
  if (text.empty()) return fallback;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  return end && *end == '\0' ? value : fallback;
}

// An episode line's camera level and mode, if recorded (top level, or inside
// a camera's perturbation).
void episode_camera_setting(const nlohmann::json& line, std::set<double>* levels,
                            std::set<std::string>* modes) {
  // Level -1 stands for custom values (no level).
  auto add_level = [&](const nlohmann::json& value) {
    if (value.is_number() && value.get<double>() >= 0) levels->insert(value.get<double>());
  };
  auto read = [&](const nlohmann::json& object) {
    for (const char* key : {"camera_level", "level"}) {
      if (object.contains(key)) add_level(object[key]);
    }
    for (const char* key : {"camera_mode", "mode"}) {
      if (object.contains(key) && object[key].is_string())
        modes->insert(object[key].get<std::string>());
    }
  };
  if (line.contains("camera_level")) add_level(line["camera_level"]);
  if (line.contains("camera_mode") && line["camera_mode"].is_string()) {
    modes->insert(line["camera_mode"].get<std::string>());
  }
  if (line.contains("camera_perturbation") && line["camera_perturbation"].is_object()) {
    for (const auto& [name, camera] : line["camera_perturbation"].items()) {
      if (camera.is_object()) read(camera);
    }
  }
}

// Sets run->camera, camera_level and camera_magnitude from what the run recorded.
void describe_camera(const std::set<double>& levels, const std::set<std::string>& modes,
                     RunData* run) {
  std::string mode = modes.size() == 1 ? *modes.begin() : "";
  const std::string command_line = run->context.value("command_line", "");
  std::set<double> all_levels = levels;
  if (all_levels.empty() && run->context.contains("camera_level") &&
      run->context["camera_level"].is_number() && run->context["camera_level"].get<double>() >= 0) {
    all_levels.insert(run->context["camera_level"].get<double>());
  }
  // The run's plan record (context "plan": {"camera": {...}}), when it has one.
  nlohmann::json plan_camera = nlohmann::json::object();
  if (run->context.contains("plan") && run->context["plan"].is_object() &&
      run->context["plan"].contains("camera") && run->context["plan"]["camera"].is_object()) {
    plan_camera = run->context["plan"]["camera"];
  }
  auto plan_number = [&](const char* key) {
    return plan_camera.contains(key) && plan_camera[key].is_number()
               ? plan_camera[key].get<double>()
               : NAN;
  };
  if (all_levels.empty() && plan_number("level") >= 0) all_levels.insert(plan_number("level"));
  if (all_levels.empty()) {
    const double level = parse_double_or(command_line_value(command_line, "--camera-level"), NAN);
    if (std::isfinite(level) && level >= 0) all_levels.insert(level);
  }
  if (mode.empty()) mode = run->context.value("camera_mode", "");
  if (mode.empty() && plan_camera.contains("mode") && plan_camera["mode"].is_string()) {
    mode = plan_camera["mode"].get<std::string>();
  }
  if (mode.empty()) mode = command_line_value(command_line, "--camera-mode");
  if (all_levels.size() == 1) {
    run->camera_level = *all_levels.begin();
    run->camera = "level " + number(run->camera_level) + (mode.empty() ? "" : " (" + mode + ")");
    return;
  }
  if (all_levels.size() > 1) {
    run->camera =
        "mixed levels " + number(*all_levels.begin()) + "-" + number(*all_levels.rbegin());
    return;
  }
  // No level: the custom bounds of the plan record or the command line, else the
  // largest drawn offsets.
  std::array<double, 3> bounds{};
  const char* const plan_keys[3] = {"position", "rotation", "fovy"};
  const char* const flags[3] = {"--camera-position", "--camera-rotation", "--camera-fovy"};
  for (int i = 0; i < 3; ++i) {
    const double planned = plan_number(plan_keys[i]);
    bounds[i] = std::isfinite(planned)
                    ? planned
                    : parse_double_or(command_line_value(command_line, flags[i]), 0);
  }
  bool drawn = false;
  if (bounds == std::array<double, 3>{}) {
    for (const EpisodeResult& episode : run->episodes) {
      for (const auto& [name, camera] : episode.cameras) {
        for (int axis = 0; axis < 3; ++axis) {
          bounds[0] = std::max(bounds[0], std::abs(camera.position_offset[axis]));
          bounds[1] = std::max(bounds[1], std::abs(camera.rotation_offset[axis]));
        }
        bounds[2] = std::max(bounds[2], std::abs(camera.fovy_delta));
        drawn = true;
      }
    }
  }
  run->camera_magnitude = bounds;
  if (bounds == std::array<double, 3>{}) {
    run->camera = "none";
  } else {
    run->camera = std::string(drawn ? "drawn up to " : "") + "position " + number(bounds[0]) +
                  " m, rotation " + number(bounds[1]) + " rad, fovy " + number(bounds[2]) + " deg";
  }
}

// A p-value; below the smallest double the sum can hold, a bound.
std::string p_value_text(double p) { return p < 1e-300 ? "< 1e-300" : number(p, "%.4g"); }

std::string cell_for_row(const Aggregate& row) {
  std::string text = percent(row.success_rate) + " [" + number(100 * row.ci95.low, "%.1f") + ", " +
                     number(100 * row.ci95.high, "%.1f") + "] (" + std::to_string(row.successes) +
                     "/" + std::to_string(row.episodes) + ")";
  for (const auto& [name, value] : row.metrics) text += "; " + name + " " + percent(value);
  return text;
}

std::string values_text(const std::map<std::string, double>& values) {
  std::string text;
  // Success first, then the other published metrics; named when there are several.
  if (values.count("success")) {
    text = (values.size() > 1 ? "success " : "") + percent(values.at("success"));
  }
  for (const auto& [name, value] : values) {
    if (name == "success") continue;
    text += (text.empty() ? "" : "; ") + name + " " + percent(value);
  }
  return text;
}

const Aggregate* find_row(const RunData& run, const std::string& suite, const std::string& task,
                          bool is_group) {
  for (const Aggregate& row : run.rows) {
    if (row.suite == suite && row.task == task && row.is_group == is_group) return &row;
  }
  return nullptr;
}

}  // namespace

// ---- Baselines ----

BaselineTable load_baseline_table(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  nlohmann::json json;
  try {
    in >> json;
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error(path + ": not JSON (" + error.what() + ")");
  }
  BaselineTable table;
  table.file = path;
  try {
    table.benchmark = json.at("benchmark").get<std::string>();
    table.source = json.at("source").get<std::string>();
    table.simulator = json.value("simulator", "");
    const std::string unit = json.at("unit").get<std::string>();
    if (unit != "percent" && unit != "fraction") {
      throw std::runtime_error("\"unit\" must be \"percent\" or \"fraction\", not \"" + unit +
                               "\"");
    }
    const double scale = unit == "percent" ? 0.01 : 1.0;
    table.suite_labels = json.at("suites").get<std::map<std::string, std::string>>();
    if (json.contains("tasks")) {
      table.task_labels = json["tasks"].get<std::map<std::string, std::string>>();
    }
    // Published values as fractions; each must lie in 0..1 after scaling.
    auto read_values = [&](const nlohmann::json& object, const std::string& where) {
      std::map<std::string, double> values;
      for (const auto& [name, value] : object.items()) {
        if (name == "tasks") continue;
        if (!value.is_number()) throw std::runtime_error(where + "." + name + " is not a number");
        const double fraction = value.get<double>() * scale;
        if (fraction < 0 || fraction > 1 + 1e-9) {
          throw std::runtime_error(where + "." + name + " = " + value.dump() + " is outside 0..1" +
                                   (unit == "percent" ? "00" : ""));
        }
        values[name] = fraction;
      }
      return values;
    };
    for (const nlohmann::json& policy : json.at("policies")) {
      const std::string name = policy.at("policy").get<std::string>();
      table.policies.push_back(name);
      for (const auto& [suite, numbers] : policy.at("suites").items()) {
        if (!table.suite_labels.count(suite)) {
          throw std::runtime_error("policy " + name + " has suite \"" + suite +
                                   "\", which \"suites\" does not label");
        }
        BaselineEntry entry;
        entry.policy = name;
        entry.suite = suite;
        const std::string where = name + "." + suite;
        entry.values = read_values(numbers, where);
        if (numbers.contains("tasks")) {
          for (const auto& [task, task_numbers] : numbers["tasks"].items()) {
            entry.tasks[task] = read_values(task_numbers, where + "." + task);
          }
        }
        table.entries.push_back(std::move(entry));
      }
      if (policy.contains("summary")) {
        table.summaries[name] = read_values(policy["summary"], name + ".summary");
      }
    }
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error(path + ": " + error.what());
  } catch (const std::runtime_error& error) {
    throw std::runtime_error(path + ": " + error.what());
  }
  if (table.policies.empty()) throw std::runtime_error(path + ": no policies");
  return table;
}

std::vector<BaselineTable> load_baselines(const std::string& directory) {
  if (!fs::is_directory(directory)) {
    throw std::runtime_error("baselines directory " + directory + " does not exist");
  }
  std::vector<std::string> files;
  for (const auto& item : fs::directory_iterator(directory)) {
    if (item.is_regular_file() && item.path().extension() == ".json") {
      files.push_back(item.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<BaselineTable> tables;
  for (const std::string& file : files) tables.push_back(load_baseline_table(file));
  return tables;
}

std::string default_baselines_directory() {
  if (const char* directory = std::getenv("VLA_BASELINES_DIR")) return directory;
  return std::string(VLA_RESULTS_DIR) + "/baselines";
}

std::vector<PublishedMatch> published_for_suite(const std::vector<BaselineTable>& baselines,
                                                const std::string& suite) {
  std::vector<PublishedMatch> matches;
  for (const BaselineTable& table : baselines) {
    for (const BaselineEntry& entry : table.entries) {
      if (entry.suite == suite) matches.push_back({&table, &entry, &entry.values});
    }
  }
  return matches;
}

std::vector<PublishedMatch> published_for_task(const std::vector<BaselineTable>& baselines,
                                               const std::string& suite,
                                               const std::string& task_or_group) {
  std::vector<PublishedMatch> matches;
  for (const BaselineTable& table : baselines) {
    for (const BaselineEntry& entry : table.entries) {
      if (entry.suite != suite) continue;
      const auto task = entry.tasks.find(task_or_group);
      if (task != entry.tasks.end()) matches.push_back({&table, &entry, &task->second});
    }
  }
  return matches;
}

// ---- Runs ----

std::string registry_task_name(const std::string& suite, int task_id) {
  const auto& tasks_of_suite = registry_tasks(suite);
  return task_id >= 0 && size_t(task_id) < tasks_of_suite.size() ? tasks_of_suite[task_id].name
                                                                 : "";
}

RunData load_run(const std::string& directory) {
  RunData run;
  run.directory = directory;
  const std::string path = (fs::path(directory) / "episodes.jsonl").string();
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open (is " + directory + " a run directory?)");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // A last line without its newline is torn (the writer was killed mid-line): no data.
  std::vector<std::string> lines;
  for (size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos;
       start = end + 1) {
    lines.push_back(text.substr(start, end - start));
  }
  std::map<std::string, size_t> index_of;
  std::set<double> levels;
  std::set<std::string> modes;
  for (size_t line_index = 0; line_index < lines.size(); ++line_index) {
    const std::string& line = lines[line_index];
    if (line.empty()) continue;
    const std::string where = path + ":" + std::to_string(line_index + 1);
    nlohmann::json json;
    try {
      json = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      throw std::runtime_error(where + ": not valid JSON");
    }
    if (json.contains("context")) {
      run.context = json["context"];
      continue;
    }
    EpisodeResult episode;
    try {
      episode = episode_from_json(json);
    } catch (const nlohmann::json::exception& error) {
      throw std::runtime_error(where + ": not an episode (" + error.what() + ")");
    }
    episode_camera_setting(json, &levels, &modes);
    const auto [it, inserted] = index_of.try_emplace(episode.episode_id, run.episodes.size());
    if (inserted) {
      run.episodes.push_back(std::move(episode));
    } else {
      run.episodes[it->second] = std::move(episode);
    }
  }
  if (run.episodes.empty()) throw std::runtime_error(path + ": no episodes recorded");
  run.policy = run.context.value("policy", "unknown");
  run.rows = aggregate(run.episodes, registry_group);
  describe_camera(levels, modes, &run);
  run.label = fs::path(directory).lexically_normal().filename().string();
  if (run.label.empty())
    run.label = fs::path(directory).lexically_normal().parent_path().filename();
  return run;
}

void label_runs(std::vector<RunData>* runs) {
  // Directory names; on a clash, the path as given (normalized).
  std::map<std::string, int> count;
  for (const RunData& run : *runs) ++count[run.label];
  for (RunData& run : *runs) {
    if (count[run.label] > 1) {
      std::string path = fs::path(run.directory).lexically_normal().string();
      while (path.size() > 1 && path.back() == '/') path.pop_back();
      run.label = path;
    }
  }
  // Still equal (the same directory twice): number them.
  std::map<std::string, int> seen;
  for (RunData& run : *runs) {
    const int index = seen[run.label]++;
    if (index > 0) run.label += " #" + std::to_string(index + 1);
  }
}

std::vector<std::string> report_suites(const std::vector<RunData>& runs) {
  std::vector<std::string> suites;
  for (const RunData& run : runs) {
    for (const Aggregate& row : run.rows) {
      if (std::find(suites.begin(), suites.end(), row.suite) == suites.end()) {
        suites.push_back(row.suite);
      }
    }
  }
  return suites;
}

std::string row_task_label(const Aggregate& row) {
  if (row.is_group) return "[" + row.task + "]";
  if (row.task == "all") return "all";
  const std::string name = registry_task_name(row.suite, std::stoi(row.task));
  return name.empty() ? row.task : row.task + " " + name;
}

bool camera_order(const RunData* a, const RunData* b) {
  // 0: no perturbation, 1: a level, 2: custom bounds.
  auto rank = [](const RunData* run) {
    if (std::isfinite(run->camera_level)) return 1;
    return run->camera_magnitude == std::array<double, 3>{} ? 0 : 2;
  };
  if (rank(a) != rank(b)) return rank(a) < rank(b);
  if (rank(a) == 1 && a->camera_level != b->camera_level) return a->camera_level < b->camera_level;
  if (a->camera_magnitude != b->camera_magnitude) return a->camera_magnitude < b->camera_magnitude;
  return a->camera < b->camera;
}

// ---- Paired comparison ----

double mcnemar_exact_p(int b, int c) {
  if (b < 0 || c < 0) throw std::invalid_argument("mcnemar_exact_p: negative count");
  const int n = b + c;
  if (n == 0) return 1.0;
  const int k = std::min(b, c);
  // P[X <= k] for X ~ Binomial(n, 1/2), summed in log space (large n).
  double tail = 0;
  for (int i = 0; i <= k; ++i) {
    tail += std::exp(std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) -
                     n * std::log(2.0));
  }
  return std::min(1.0, 2 * tail);
}

PairedComparison compare_paired(const RunData& a, const RunData& b) {
  PairedComparison comparison;
  comparison.run_a = a.label;
  comparison.run_b = b.label;
  std::map<std::string, const EpisodeResult*> by_id;
  for (const EpisodeResult& episode : a.episodes) by_id[episode.episode_id] = &episode;
  std::vector<std::string> suites;
  for (const EpisodeResult& episode : b.episodes) {
    const auto match = by_id.find(episode.episode_id);
    if (match == by_id.end()) continue;
    ++comparison.matched;
    const bool success_a = match->second->success, success_b = episode.success;
    comparison.both += success_a && success_b;
    comparison.only_a += success_a && !success_b;
    comparison.only_b += !success_a && success_b;
    comparison.neither += !success_a && !success_b;
    if (std::find(suites.begin(), suites.end(), episode.suite) == suites.end()) {
      suites.push_back(episode.suite);
    }
  }
  for (const std::string& suite : suites) {
    comparison.suites += (comparison.suites.empty() ? "" : ",") + suite;
  }
  comparison.same_plan =
      comparison.matched == int(a.episodes.size()) && comparison.matched == int(b.episodes.size());
  comparison.p_value = mcnemar_exact_p(comparison.only_a, comparison.only_b);
  return comparison;
}

std::vector<PairedComparison> paired_comparisons(const std::vector<RunData>& runs,
                                                 const ReportSettings& settings) {
  std::vector<PairedComparison> comparisons;
  for (size_t i = 0; i < runs.size(); ++i) {
    for (size_t j = i + 1; j < runs.size(); ++j) {
      PairedComparison comparison = compare_paired(runs[i], runs[j]);
      if (comparison.matched == 0) continue;
      if (!comparison.same_plan && !settings.pair_partial_overlap) continue;
      comparisons.push_back(comparison);
    }
  }
  return comparisons;
}

// ---- CSV ----

std::string format_report_csv(const std::vector<RunData>& runs) {
  std::set<std::string> metric_names;
  for (const RunData& run : runs) {
    for (const Aggregate& row : run.rows) {
      for (const auto& [name, value] : row.metrics) metric_names.insert(name);
    }
  }
  std::ostringstream out;
  out << "run,directory,policy,camera,camera_level,suite,row,task,task_name,episodes,successes,"
         "errors,success_rate,ci95_low,ci95_high";
  for (const std::string& name : metric_names) out << "," << csv_field(name);
  out << "\n";
  for (const RunData& run : runs) {
    for (const Aggregate& row : run.rows) {
      const std::string kind = row.is_group ? "group" : row.task == "all" ? "suite" : "task";
      const std::string task_name =
          kind == "task" ? registry_task_name(row.suite, std::stoi(row.task)) : "";
      out << csv_field(run.label) << "," << csv_field(run.directory) << "," << csv_field(run.policy)
          << "," << csv_field(run.camera) << ","
          << (std::isfinite(run.camera_level) ? number(run.camera_level) : "") << ","
          << csv_field(row.suite) << "," << kind << "," << csv_field(row.task) << ","
          << csv_field(task_name) << "," << row.episodes << "," << row.successes << ","
          << row.errors << "," << number(row.success_rate, "%.6f") << ","
          << number(row.ci95.low, "%.6f") << "," << number(row.ci95.high, "%.6f");
      for (const std::string& name : metric_names) {
        const auto metric = row.metrics.find(name);
        out << "," << (metric == row.metrics.end() ? "" : number(metric->second, "%.6f"));
      }
      out << "\n";
    }
  }
  return out.str();
}

// ---- Markdown ----

std::string format_report_markdown(const std::vector<RunData>& runs,
                                   const std::vector<BaselineTable>& baselines,
                                   const std::vector<PairedComparison>& comparisons,
                                   const ReportSettings& settings) {
  std::ostringstream out;
  out << "# " << settings.title << "\n\n";
  out << "Success rates with 95% Wilson intervals, as `rate [low, high] (successes/episodes)`. "
         "Rows marked **published** are numbers from papers (other simulators), shown beside the "
         "runs and never part of a run's statistics.\n\n";

  out << "## Runs\n\n| run | policy | camera | episodes | success | directory | revision | date |\n"
         "|---|---|---|---|---|---|---|---|\n";
  for (const RunData& run : runs) {
    int successes = 0;
    for (const EpisodeResult& episode : run.episodes) successes += episode.success;
    out << "| " << markdown_cell(run.label) << " | " << markdown_cell(run.policy) << " | "
        << markdown_cell(run.camera) << " | " << run.episodes.size() << " | "
        << percent(double(successes) / run.episodes.size()) << " | `"
        << markdown_cell(run.directory) << "` | " << run.context.value("git_revision", "") << " | "
        << run.context.value("date", "") << " |\n";
  }

  for (const std::string& suite : report_suites(runs)) {
    out << "\n## Suite " << suite << "\n\n";
    // Task and group rows in the order of the first run that has the suite.
    std::vector<std::pair<std::string, bool>> keys;
    for (const RunData& run : runs) {
      for (const Aggregate& row : run.rows) {
        if (row.suite != suite || row.task == "all") continue;
        const std::pair<std::string, bool> key{row.task, row.is_group};
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
      }
    }
    std::vector<const RunData*> suite_runs;
    for (const RunData& run : runs) {
      if (find_row(run, suite, "all", false)) suite_runs.push_back(&run);
    }
    out << "### Per task\n\n| task |";
    for (const RunData* run : suite_runs) out << " " << markdown_cell(run->label) << " |";
    out << "\n|---|";
    for (size_t i = 0; i < suite_runs.size(); ++i) out << "---|";
    out << "\n";
    keys.push_back({"all", false});
    for (const auto& [task, is_group] : keys) {
      const Aggregate* first = nullptr;
      for (const RunData* run : suite_runs) {
        if ((first = find_row(*run, suite, task, is_group))) break;
      }
      out << "| " << markdown_cell(task == "all" ? "**suite**" : row_task_label(*first)) << " |";
      for (const RunData* run : suite_runs) {
        const Aggregate* row = find_row(*run, suite, task, is_group);
        out << " " << (row ? cell_for_row(*row) : "-") << " |";
      }
      out << "\n";
    }

    // Published per-task numbers for the tasks and groups of this suite.
    std::vector<std::string> published_tasks;
    for (const auto& [task, is_group] : keys) {
      std::string name = task;
      if (!is_group && task != "all") name = registry_task_name(suite, std::stoi(task));
      if (!published_for_task(baselines, suite, name).empty() &&
          std::find(published_tasks.begin(), published_tasks.end(), name) ==
              published_tasks.end()) {
        published_tasks.push_back(name);
      }
    }
    const auto published = published_for_suite(baselines, suite);
    if (!published_tasks.empty()) {
      out << "\n### Per task, published\n\n| source | policy |";
      for (const std::string& task : published_tasks) out << " " << markdown_cell(task) << " |";
      out << " suite |\n|---|---|";
      for (size_t i = 0; i <= published_tasks.size(); ++i) out << "---|";
      out << "\n";
      for (const PublishedMatch& match : published) {
        out << "| published (" << markdown_cell(match.table->benchmark) << ") | "
            << markdown_cell(match.entry->policy) << " |";
        for (const std::string& task : published_tasks) {
          const auto values = match.entry->tasks.find(task);
          out << " " << (values == match.entry->tasks.end() ? "-" : values_text(values->second))
              << " |";
        }
        out << " " << values_text(*match.values) << " |\n";
      }
    }

    out << "\n### Suite success: runs and published\n\n"
           "| kind | policy | run or source | camera | success | 95% CI | episodes | metrics |\n"
           "|---|---|---|---|---|---|---|---|\n";
    for (const RunData* run : suite_runs) {
      const Aggregate* row = find_row(*run, suite, "all", false);
      std::string metrics;
      for (const auto& [name, value] : row->metrics) {
        metrics += (metrics.empty() ? "" : "; ") + name + " " + percent(value);
      }
      out << "| run | " << markdown_cell(run->policy) << " | " << markdown_cell(run->label) << " | "
          << markdown_cell(run->camera) << " | " << percent(row->success_rate) << " | "
          << number(100 * row->ci95.low, "%.1f") << "-" << number(100 * row->ci95.high, "%.1f")
          << "% | " << row->episodes << " | " << metrics << " |\n";
    }
    std::vector<const BaselineTable*> sources;
    for (const PublishedMatch& match : published) {
      std::map<std::string, double> others = *match.values;
      others.erase("success");
      out << "| **published** | " << markdown_cell(match.entry->policy) << " | "
          << markdown_cell(match.table->benchmark + ": " + match.table->suite_labels.at(suite))
          << " | | "
          << (match.values->count("success") ? percent(match.values->at("success")) : "-")
          << " | | | " << values_text(others) << " |\n";
      if (std::find(sources.begin(), sources.end(), match.table) == sources.end()) {
        sources.push_back(match.table);
      }
    }
    for (const BaselineTable* table : sources) {
      out << "\nPublished " << table->benchmark << " numbers: " << table->source
          << (table->simulator.empty() ? "" : ", measured in " + table->simulator) << ".\n";
    }
  }

  // Success against the camera setting, when runs differ in it.
  std::set<std::string> cameras;
  for (const RunData& run : runs) cameras.insert(run.camera);
  if (cameras.size() > 1) {
    out << "\n## Success vs camera perturbation\n\n| policy | suite | camera | run | success |\n"
           "|---|---|---|---|---|\n";
    std::vector<const RunData*> ordered;
    for (const RunData& run : runs) ordered.push_back(&run);
    std::stable_sort(ordered.begin(), ordered.end(), [](const RunData* a, const RunData* b) {
      if (a->policy != b->policy) return a->policy < b->policy;
      return camera_order(a, b);
    });
    for (const std::string& suite : report_suites(runs)) {
      for (const RunData* run : ordered) {
        const Aggregate* row = find_row(*run, suite, "all", false);
        if (!row) continue;
        out << "| " << markdown_cell(run->policy) << " | " << suite << " | "
            << markdown_cell(run->camera) << " | " << markdown_cell(run->label) << " | "
            << cell_for_row(*row) << " |\n";
      }
    }
  }

  out << "\n## Paired comparisons (exact McNemar test)\n\n";
  if (comparisons.empty()) {
    out << "No two runs share episode ids, so no paired test.\n";
  } else {
    out << "Matched episodes by id; b = A succeeded and B failed, c = the reverse; p = two-sided "
           "exact binomial test of b against b + c trials at 1/2.\n\n"
           "| run A | run B | suites | matched | both | A only (b) | B only (c) | neither | "
           "A success | B success | p |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (const PairedComparison& comparison : comparisons) {
      const double matched = comparison.matched;
      out << "| " << markdown_cell(comparison.run_a) << " | " << markdown_cell(comparison.run_b)
          << " | " << comparison.suites << (comparison.same_plan ? "" : " (partial overlap)")
          << " | " << comparison.matched << " | " << comparison.both << " | " << comparison.only_a
          << " | " << comparison.only_b << " | " << comparison.neither << " | "
          << percent((comparison.both + comparison.only_a) / matched) << " | "
          << percent((comparison.both + comparison.only_b) / matched) << " | "
          << p_value_text(comparison.p_value) << " |\n";
    }
  }

  out << "\n## Published baselines\n\n";
  if (baselines.empty()) out << "None loaded.\n";
  for (const BaselineTable& table : baselines) {
    out << "### " << table.benchmark << " (published)\n\nSource: " << table.source
        << (table.simulator.empty() ? "" : "; simulator: " + table.simulator) << "; file `"
        << table.file << "`.\n\n| kind | policy |";
    std::vector<std::string> suites;
    for (const BaselineEntry& entry : table.entries) {
      if (std::find(suites.begin(), suites.end(), entry.suite) == suites.end()) {
        suites.push_back(entry.suite);
      }
    }
    std::set<std::string> summary_names;
    for (const auto& [policy, values] : table.summaries) {
      for (const auto& [name, value] : values) summary_names.insert(name);
    }
    for (const std::string& suite : suites) out << " " << table.suite_labels.at(suite) << " |";
    for (const std::string& name : summary_names) out << " " << name << " |";
    out << "\n|---|---|";
    for (size_t i = 0; i < suites.size() + summary_names.size(); ++i) out << "---|";
    out << "\n";
    for (const std::string& policy : table.policies) {
      out << "| published | " << markdown_cell(policy) << " |";
      for (const std::string& suite : suites) {
        std::string text = "-";
        for (const BaselineEntry& entry : table.entries) {
          if (entry.policy == policy && entry.suite == suite) text = values_text(entry.values);
        }
        out << " " << text << " |";
      }
      for (const std::string& name : summary_names) {
        const auto summary = table.summaries.find(policy);
        const bool has = summary != table.summaries.end() && summary->second.count(name);
        out << " " << (has ? percent(summary->second.at(name)) : "-") << " |";
      }
      out << "\n";
    }
    out << "\n";
  }
  return out.str();
}

// ---- Files and command ----

std::vector<PairedComparison> write_report(const std::vector<RunData>& runs,
                                           const std::vector<BaselineTable>& baselines,
                                           const ReportSettings& settings) {
  if (runs.empty()) throw std::runtime_error("report: no run directories given");
  std::error_code error;
  fs::create_directories(settings.out_directory, error);
  if (error) {
    throw std::runtime_error("cannot create report directory " + settings.out_directory + ": " +
                             error.message());
  }
  const std::vector<PairedComparison> comparisons = paired_comparisons(runs, settings);
  auto write = [&](const std::string& name, const std::string& text) {
    const std::string path = (fs::path(settings.out_directory) / name).string();
    std::ofstream out(path);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path);
  };
  write("report.md", format_report_markdown(runs, baselines, comparisons, settings));
  write("report.csv", format_report_csv(runs));
  write("report.html", format_report_html(runs, baselines, comparisons, settings));
  // Runs at two or more camera settings: the robustness plot on its own too.
  std::set<std::string> cameras;
  for (const RunData& run : runs) cameras.insert(run.camera);
  if (cameras.size() >= 2) write("camera.svg", camera_plot_svg(runs));
  return comparisons;
}

namespace {

// The MMRV and Pearson table of `report --sim/--sim-run --real`.
void print_sim_real(const std::string& sim_file, const std::vector<std::string>& sim_runs,
                    const std::string& real_file) {
  if (sim_file.empty() == sim_runs.empty()) {
    throw std::runtime_error("report needs exactly one of --sim FILE and --sim-run POLICY=DIR");
  }
  if (real_file.empty()) throw std::runtime_error("report --sim/--sim-run needs --real FILE");
  std::map<std::string, PolicyRates> sim;
  if (!sim_file.empty()) {
    sim = load_policy_rates(sim_file);
  } else {
    for (const std::string& entry : sim_runs) {
      const auto equals = entry.find('=');
      if (equals == std::string::npos || equals == 0 || equals + 1 == entry.size()) {
        throw std::runtime_error("--sim-run: expected POLICY=RUN_DIR, got '" + entry + "'");
      }
      sim[""][entry.substr(0, equals)] = run_success_rate(entry.substr(equals + 1));
    }
  }
  const auto comparisons = compare_sim_real(sim, load_policy_rates(real_file));
  std::printf("%-24s %8s %8s %9s  %s\n", "task", "MMRV", "Pearson", "policies", "");
  double mmrv_sum = 0, pearson_sum = 0;
  int pearson_count = 0;
  for (const auto& comparison : comparisons) {
    std::string names;
    for (const auto& policy : comparison.policies) names += (names.empty() ? "" : ", ") + policy;
    std::printf("%-24s %8.3f %8.3f %9zu  %s\n",
                comparison.task.empty() ? "(all)" : comparison.task.c_str(), comparison.mmrv,
                comparison.pearson, comparison.policies.size(), names.c_str());
    mmrv_sum += comparison.mmrv;
    if (std::isfinite(comparison.pearson)) pearson_sum += comparison.pearson, ++pearson_count;
  }
  if (comparisons.size() > 1) {
    std::printf("%-24s %8.3f %8.3f\n", "mean over tasks", mmrv_sum / comparisons.size(),
                pearson_count ? pearson_sum / pearson_count : NAN);
  }
}

struct ReportOptions {
  std::vector<std::string> runs;
  std::string out_directory, baselines_directory, title = "vla-harness report";
  std::string sim_file, real_file;
  std::vector<std::string> sim_runs;
  bool no_baselines = false;
};

void run_report_command(const ReportOptions& options) {
  const bool sim_real =
      !options.sim_file.empty() || !options.sim_runs.empty() || !options.real_file.empty();
  if (options.runs.empty() && !sim_real) {
    throw std::runtime_error(
        "report needs RUN directories (with --out DIR) and/or --real FILE with --sim FILE or "
        "--sim-run POLICY=DIR");
  }
  // Flag mistakes first, before any file is written.
  if (sim_real && options.sim_file.empty() == options.sim_runs.empty()) {
    throw std::runtime_error("report needs exactly one of --sim FILE and --sim-run POLICY=DIR");
  }
  if (sim_real && options.real_file.empty()) {
    throw std::runtime_error("report --sim/--sim-run needs --real FILE");
  }
  if (!options.runs.empty()) {
    if (options.out_directory.empty()) {
      throw std::runtime_error("report RUN...: --out DIR (where the report files go) is required");
    }
    std::vector<RunData> runs;
    for (const std::string& directory : options.runs) runs.push_back(load_run(directory));
    label_runs(&runs);
    std::vector<BaselineTable> baselines;
    if (!options.no_baselines) {
      const std::string directory = options.baselines_directory.empty()
                                        ? default_baselines_directory()
                                        : options.baselines_directory;
      if (options.baselines_directory.empty() && !fs::is_directory(directory)) {
        std::fprintf(stderr, "report: no published baselines (%s does not exist)\n",
                     directory.c_str());
      } else {
        baselines = load_baselines(directory);
      }
    }
    ReportSettings settings;
    settings.out_directory = options.out_directory;
    settings.title = options.title;
    const auto comparisons = write_report(runs, baselines, settings);
    for (const RunData& run : runs) {
      for (const Aggregate& row : run.rows) {
        if (row.task != "all") continue;
        std::printf("%-28s %-14s %-16s %5d episodes  %6.1f%% [%.1f, %.1f]  camera: %s\n",
                    run.label.c_str(), run.policy.c_str(), row.suite.c_str(), row.episodes,
                    100 * row.success_rate, 100 * row.ci95.low, 100 * row.ci95.high,
                    run.camera.c_str());
      }
    }
    for (const PairedComparison& comparison : comparisons) {
      std::printf("paired %s vs %s: %d matched, b=%d c=%d, McNemar exact p=%s%s\n",
                  comparison.run_a.c_str(), comparison.run_b.c_str(), comparison.matched,
                  comparison.only_a, comparison.only_b, p_value_text(comparison.p_value).c_str(),
                  comparison.same_plan ? "" : " (partial overlap)");
    }
    const fs::path out(options.out_directory);
    std::printf("wrote %s, %s, %s (%zu published tables)\n", (out / "report.md").c_str(),
                (out / "report.csv").c_str(), (out / "report.html").c_str(), baselines.size());
  }
  if (sim_real) print_sim_real(options.sim_file, options.sim_runs, options.real_file);
}

}  // namespace

void add_report_command(CLI::App& app) {
  CLI::App* command = app.add_subcommand(
      "report",
      "Report on run directories (Markdown, CSV, HTML with plots, published baselines, paired "
      "McNemar tests); or compare per-policy success rates with a reference (MMRV, Pearson r)");
  auto options = std::make_shared<ReportOptions>();
  command->add_option("runs", options->runs, "Run directories (each with episodes.jsonl)");
  command->add_option("--out", options->out_directory,
                      "Directory for report.md, report.csv and report.html");
  command->add_option(
      "--baselines", options->baselines_directory,
      "Directory of published baseline tables (*.json; default: results/baselines)");
  command->add_flag("--no-baselines", options->no_baselines, "Leave published baselines out");
  command->add_option("--title", options->title, "Report title")->capture_default_str();
  command->add_option("--sim", options->sim_file,
                      "JSON rates {\"policy\": rate} or {\"task\": {\"policy\": rate}} from "
                      "simulation");
  command
      ->add_option("--sim-run", options->sim_runs,
                   "POLICY=RUN_DIR: a run's suite success rate as POLICY's simulated rate "
                   "(repeatable)")
      ->allow_extra_args(false);
  command->add_option("--real", options->real_file,
                      "JSON rates of the reference (same shapes as --sim)");
  command->callback([options] { run_report_command(*options); });
}

}  // namespace harness
