#include "harness/sweep.h"

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>

#include "harness/camera_levels.h"
#include "harness/results.h"
#include "harness/subprocess.h"

namespace harness {

namespace {

// Letters, digits, '.', '-' and '_' kept; anything else becomes '-'.
std::string file_safe(const std::string& text) {
  std::string safe = text;
  for (char& c : safe) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '-';
  }
  return safe;
}

template <typename T>
std::vector<T> list_of(const nlohmann::json& value, const std::string& where) {
  if (value.is_array()) return value.get<std::vector<T>>();
  if (value.is_primitive() && !value.is_null()) return {value.get<T>()};
  throw std::runtime_error(where + ": expected a list");
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

}  // namespace

SweepSpec load_sweep_spec(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read sweep spec " + path);
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error("sweep spec " + path + ": not JSON: " + error.what());
  }
  if (!json.is_object())
    throw std::runtime_error("sweep spec " + path + ": expected a JSON object");
  SweepSpec spec;
  for (const auto& [key, value] : json.items()) {
    const std::string where = "sweep spec " + path + ": \"" + key + "\"";
    try {
      if (key == "suites") {
        spec.suites = list_of<std::string>(value, where);
      } else if (key == "policies") {
        spec.policies = list_of<std::string>(value, where);
      } else if (key == "camera_levels") {
        spec.camera_levels = list_of<int>(value, where);
      } else if (key == "seeds") {
        spec.seeds = list_of<uint64_t>(value, where);
      } else if (key == "camera_mode") {
        spec.camera_mode = value.get<std::string>();
      } else if (key == "tasks") {
        spec.tasks = value.is_string() ? value.get<std::string>() : [&] {
          std::string ids;
          for (int id : list_of<int>(value, where))
            ids += (ids.empty() ? "" : ",") + std::to_string(id);
          return ids;
        }();
      } else if (key == "episodes_per_task") {
        spec.episodes_per_task = value.get<int>();
      } else if (key == "workers") {
        spec.workers = value.get<int>();
      } else if (key == "eval_args") {
        spec.eval_args = list_of<std::string>(value, where);
      } else {
        throw std::runtime_error(where +
                                 ": unknown key (valid: suites, policies, camera_levels, seeds, "
                                 "camera_mode, tasks, episodes_per_task, workers, eval_args)");
      }
    } catch (const nlohmann::json::exception& error) {
      throw std::runtime_error(where + ": wrong type: " + error.what());
    }
  }
  return spec;
}

std::vector<SweepCell> sweep_cells(const SweepSpec& spec, const std::string& out_directory) {
  for (const auto& [axis, size] :
       std::map<std::string, size_t>{{"suites", spec.suites.size()},
                                     {"policies", spec.policies.size()},
                                     {"camera levels", spec.camera_levels.size()},
                                     {"seeds", spec.seeds.size()}}) {
    if (size == 0) throw std::runtime_error("sweep: no " + axis + " given");
  }
  for (int level : spec.camera_levels) camera_level(level);  // range check
  parse_camera_mode(spec.camera_mode);
  if (spec.workers < 1) throw std::runtime_error("sweep: workers must be at least 1");
  if (spec.episodes_per_task < 0)
    throw std::runtime_error("sweep: episodes_per_task must not be negative");
  std::vector<SweepCell> cells;
  std::set<std::string> names;
  for (const std::string& suite : spec.suites) {
    for (const std::string& policy : spec.policies) {
      for (int level : spec.camera_levels) {
        for (uint64_t seed : spec.seeds) {
          SweepCell cell;
          cell.suite = suite;
          cell.policy = policy;
          cell.camera_level = level;
          cell.seed = seed;
          cell.name = file_safe(suite) + "__" + file_safe(policy.substr(0, policy.find('?'))) +
                      "__cam" + std::to_string(level) + "__seed" + std::to_string(seed);
          if (!names.insert(cell.name).second) {
            throw std::runtime_error("sweep: two cells would share the directory " + cell.name +
                                     " (repeated suite, policy, level or seed?)");
          }
          cell.directory = (std::filesystem::path(out_directory) / cell.name).string();
          cell.eval_args = {"--suite",        suite,
                            "--policy",       policy,
                            "--tasks",        spec.tasks,
                            "--seed",         std::to_string(seed),
                            "--camera-level", std::to_string(level),
                            "--camera-mode",  spec.camera_mode,
                            "--workers",      std::to_string(spec.workers),
                            "--out",          cell.directory};
          if (spec.episodes_per_task > 0) {
            cell.eval_args.insert(cell.eval_args.end(),
                                  {"--episodes-per-task", std::to_string(spec.episodes_per_task)});
          }
          cell.eval_args.insert(cell.eval_args.end(), spec.eval_args.begin(), spec.eval_args.end());
          cells.push_back(std::move(cell));
        }
      }
    }
  }
  return cells;
}

CellOutcome read_cell_outcome(const SweepCell& cell) {
  CellOutcome outcome;
  const std::string path = (std::filesystem::path(cell.directory) / "summary.json").string();
  std::ifstream in(path);
  if (!in) return outcome;
  try {
    const nlohmann::json summary = nlohmann::json::parse(in);
    double rate_sum = 0;
    int suites = 0;
    for (const nlohmann::json& row : summary.at("suites")) {
      outcome.episodes += row.at("episodes").get<int>();
      outcome.successes += row.at("successes").get<int>();
      outcome.errors += row.value("errors", 0);
      rate_sum += row.at("success_rate").get<double>();
      ++suites;
    }
    // One suite: its own rate (group means where it has groups); several: their mean.
    outcome.success_rate = suites > 0 ? rate_sum / suites : 0.0;
    const Interval ci = wilson_interval(outcome.successes, outcome.episodes);
    outcome.ci_low = ci.low;
    outcome.ci_high = ci.high;
    outcome.status = "done";
  } catch (const std::exception& error) {
    throw std::runtime_error(path + ": " + error.what());
  }
  return outcome;
}

std::string format_sweep_table(const std::vector<SweepCell>& cells,
                               const std::vector<CellOutcome>& outcomes) {
  // The suite and policy columns are as wide as their longest entry.
  auto policy_of = [](const SweepCell& cell) { return cell.policy.substr(0, cell.policy.find('?')); };
  int suite_width = 16, policy_width = 20;
  for (const SweepCell& cell : cells) {
    suite_width = std::max(suite_width, int(cell.suite.size()));
    policy_width = std::max(policy_width, int(policy_of(cell).size()));
  }
  std::ostringstream out;
  std::vector<char> line(size_t(suite_width + policy_width) + 4096);
  std::snprintf(line.data(), line.size(), "%-*s %-*s %4s %6s %8s %9s %8s %15s %6s  %s\n",
                suite_width, "suite", policy_width, "policy", "cam", "seed", "status", "episodes",
                "success", "95% CI", "errors", "directory");
  out << line.data();
  for (size_t i = 0; i < cells.size(); ++i) {
    const SweepCell& cell = cells[i];
    const CellOutcome outcome = i < outcomes.size() ? outcomes[i] : CellOutcome{};
    const std::string policy = policy_of(cell);
    if (outcome.status == "done") {
      char ci[32];
      std::snprintf(ci, sizeof(ci), "[%.1f, %.1f]", 100 * outcome.ci_low, 100 * outcome.ci_high);
      std::snprintf(line.data(), line.size(), "%-*s %-*s %4d %6llu %8s %9d %7.1f%% %15s %6d  ",
                    suite_width, cell.suite.c_str(), policy_width, policy.c_str(), cell.camera_level,
                    static_cast<unsigned long long>(cell.seed), outcome.status.c_str(),
                    outcome.episodes, 100 * outcome.success_rate, ci, outcome.errors);
    } else {
      std::snprintf(line.data(), line.size(), "%-*s %-*s %4d %6llu %8s %9s %8s %15s %6s  ",
                    suite_width, cell.suite.c_str(), policy_width, policy.c_str(),
                    cell.camera_level, static_cast<unsigned long long>(cell.seed),
                    outcome.status.c_str(), "-", "-", "-", "-");
    }
    out << line.data() << cell.directory << "\n";
  }
  return out.str();
}

std::vector<CellOutcome> run_sweep(const std::vector<SweepCell>& cells,
                                   const std::string& program) {
  std::vector<CellOutcome> outcomes;
  for (size_t i = 0; i < cells.size(); ++i) {
    const SweepCell& cell = cells[i];
    std::fprintf(stderr, "sweep cell %zu/%zu: %s\n", i + 1, cells.size(), cell.name.c_str());
    std::fflush(stderr);
    std::fflush(stdout);
    std::vector<std::string> args = {program, "eval"};
    args.insert(args.end(), cell.eval_args.begin(), cell.eval_args.end());
    // A cell whose eval dies of a signal (a crash in the GL driver, an OOM
    // kill) runs once more: it resumes from its recorded episodes. SIGINT and
    // SIGTERM are someone stopping it and end the cell.
    int status = 0;
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (attempt > 0) {
        std::fprintf(stderr,
                     "sweep cell %s: eval was killed by signal %d; running it once more (it "
                     "resumes)\n",
                     cell.name.c_str(), WTERMSIG(status));
        std::fflush(stderr);
      }
      try {
        status = wait_process(spawn_process(args));
      } catch (const std::runtime_error& error) {
        throw std::runtime_error(std::string("sweep: ") + error.what());
      }
      if (!WIFSIGNALED(status) || WTERMSIG(status) == SIGINT || WTERMSIG(status) == SIGTERM) break;
    }
    CellOutcome outcome;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      outcome = read_cell_outcome(cell);
    } else {
      outcome.status = "failed";
      std::fprintf(stderr, "sweep cell %s failed (%s %d)\n", cell.name.c_str(),
                   WIFEXITED(status) ? "exit status" : "signal",
                   WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    }
    outcomes.push_back(outcome);
  }
  return outcomes;
}

void add_sweep_command(CLI::App& app) {
  auto* sweep = app.add_subcommand("sweep",
                                   "Run a grid of evals (suites x policies x camera levels x "
                                   "seeds), one run directory per cell");
  struct Options {
    std::string spec_path, suites, policies, camera_levels, seeds, camera_mode, tasks, out;
    int episodes_per_task = -1, workers = 0;
    bool dry_run = false;
    std::vector<std::string> eval_args;
  };
  auto options = std::make_shared<Options>();
  sweep->add_option("--spec", options->spec_path,
                    "JSON sweep spec (flags below override its keys)");
  sweep->add_option("--suites", options->suites,
                    "Suites, comma separated (default libero_spatial)");
  sweep->add_option("--policies", options->policies,
                    "Policy specs, comma separated (default scripted)");
  sweep->add_option("--camera-levels", options->camera_levels,
                    "Camera levels 0..5, comma separated (default 0)");
  sweep->add_option("--seeds", options->seeds, "Run seeds, comma separated (default 7)");
  sweep->add_option("--camera-mode", options->camera_mode, "orbit or free (default orbit)");
  sweep->add_option("--tasks", options->tasks, "Task ids of every cell, comma separated, or all");
  sweep->add_option("--episodes-per-task", options->episodes_per_task,
                    "Episodes per task (default: the protocol's)");
  sweep->add_option("--workers", options->workers, "Worker threads per cell (default 1)");
  sweep->add_option("--out", options->out, "Sweep directory: one run directory per cell")
      ->required();
  sweep->add_flag("--dry-run", options->dry_run, "List the cells and their state; run nothing");
  sweep->add_option("eval_args", options->eval_args,
                    "Further eval arguments for every cell (after --)");
  sweep->callback([options] {
    SweepSpec spec = options->spec_path.empty() ? SweepSpec{} : load_sweep_spec(options->spec_path);
    auto integers = [](const std::string& text, const std::string& flag) {
      std::vector<long long> values;
      for (const std::string& item : split_list(text)) {
        size_t used = 0;
        long long value = -1;
        try {
          value = std::stoll(item, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != item.size() || value < 0) {
          throw std::runtime_error(flag + ": '" + item + "' is not a non-negative integer");
        }
        values.push_back(value);
      }
      return values;
    };
    if (!options->suites.empty()) spec.suites = split_list(options->suites);
    if (!options->policies.empty()) spec.policies = split_list(options->policies);
    if (!options->camera_levels.empty()) {
      spec.camera_levels.clear();
      for (long long v : integers(options->camera_levels, "--camera-levels"))
        spec.camera_levels.push_back(int(v));
    }
    if (!options->seeds.empty()) {
      spec.seeds.clear();
      for (long long v : integers(options->seeds, "--seeds")) spec.seeds.push_back(uint64_t(v));
    }
    if (!options->camera_mode.empty()) spec.camera_mode = options->camera_mode;
    if (!options->tasks.empty()) spec.tasks = options->tasks;
    if (options->episodes_per_task >= 0) spec.episodes_per_task = options->episodes_per_task;
    if (options->workers > 0) spec.workers = options->workers;
    spec.eval_args.insert(spec.eval_args.end(), options->eval_args.begin(),
                          options->eval_args.end());
    const std::vector<SweepCell> cells = sweep_cells(spec, options->out);
    std::vector<CellOutcome> outcomes;
    if (options->dry_run) {
      for (const SweepCell& cell : cells) outcomes.push_back(read_cell_outcome(cell));
      std::printf("%zu cells (dry run: nothing runs)\n", cells.size());
      for (const SweepCell& cell : cells) {
        std::string command = "vla-harness eval";
        for (const std::string& arg : cell.eval_args) command += " " + arg;
        std::printf("  %s: %s\n", cell.name.c_str(), command.c_str());
      }
      std::printf("%s", format_sweep_table(cells, outcomes).c_str());
      return;
    }
    std::filesystem::create_directories(options->out);
    const std::string program = std::filesystem::read_symlink("/proc/self/exe").string();
    outcomes = run_sweep(cells, program);
    std::printf("%s", format_sweep_table(cells, outcomes).c_str());
    int failed = 0;
    for (const CellOutcome& outcome : outcomes) failed += outcome.status != "done";
    if (failed > 0) {
      throw std::runtime_error(std::to_string(failed) + " of " + std::to_string(cells.size()) +
                               " sweep cells failed (run the sweep again to retry them)");
    }
  });
}

}  // namespace harness
