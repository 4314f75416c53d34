// vla-harness: evaluate robot VLA policies on LIBERO-style tasks in MuJoCo.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "envs/render.h"
#include "harness/bench.h"
#include "harness/contact_sheet.h"
#include "harness/demos.h"
#include "harness/merge.h"
#include "harness/plan.h"
#include "harness/processes.h"
#include "harness/registry.h"
#include "harness/results.h"
#include "harness/runner.h"
#include "harness/serve.h"
#include "harness/sweep.h"
#include "harness/video.h"
#include "harness/report.h"
#include "harness/slurm.h"
#include "tasks/init_states.h"
#include "tasks/episode_env.h"
#ifdef VLA_WITH_TORCH
#include "policies/dream_vla/dream_vla.h"
#include "policies/dream_vla/train.h"
#endif

namespace {

std::string join_command_line(int argc, char** argv) {
  std::ostringstream out;
  for (int i = 0; i < argc; ++i) out << (i ? " " : "") << argv[i];
  return out.str();
}

// "0,2,5" or "all" -> ids (empty means all).
std::vector<int> parse_task_ids(const std::string& text) {
  std::vector<int> ids;
  if (text.empty() || text == "all") return ids;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    const int id = tasks::parse_task_id(item);
    if (id < 0) {
      throw std::runtime_error("--tasks: '" + item + "' is not a task id (use e.g. 0,1,2 or all)");
    }
    ids.push_back(id);
  }
  return ids;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vla-harness: evaluate vision-language-action policies in MuJoCo"};
  app.require_subcommand(1);
  const std::string command_line = join_command_line(argc, argv);

  // eval
  auto* eval = app.add_subcommand("eval", "Run suites or tasks against a policy");
  std::string suites_text = "libero_spatial", tasks_text = "all", policy_spec = "scripted";
  std::string out_dir, gl_backend = "osmesa";
  int episodes_per_task = 0, workers = 1, image_size = 0;
  uint64_t seed = 7;
  bool shadows = false, quiet = false;
  harness::PlanSettings plan_settings;
  std::string shard_text;
  eval->add_option("--suite", suites_text, "Suite name(s), comma separated")->capture_default_str();
  eval->add_option("--tasks", tasks_text, "Task ids, comma separated, or 'all'")->capture_default_str();
  eval->add_option("--policy", policy_spec, "Policy (see 'vla-harness policies')")->capture_default_str();
  eval->add_option("--episodes-per-task", episodes_per_task, "Episodes per task (default: the suite protocol's)");
  eval->add_option("--seed", seed, "Run seed; every episode's seed derives from it and the episode id")
      ->capture_default_str();
  eval->add_option("--out", out_dir, "Results directory (default results/runs/<suite>-<policy>)");
  eval->add_option("--workers", workers, "Worker threads, each with its own environment")->capture_default_str();
  eval->add_option("--image-size", image_size, "Rendered camera size in px (default: the policy's)");
  eval->add_flag("--shadows", shadows, "Render shadows (about 5x slower in software rendering)");
  eval->add_option("--gl", gl_backend, "GL backend: osmesa or egl")->capture_default_str();
  eval->add_option("--camera-position", plan_settings.camera.position,
                   "Agentview position perturbation, +/- m per axis");
  eval->add_option("--camera-rotation", plan_settings.camera.rotation,
                   "Agentview rotation perturbation, +/- rad per axis");
  eval->add_option("--camera-fovy", plan_settings.camera.fovy, "Agentview field-of-view perturbation, +/- deg");
  eval->add_option("--shard", shard_text, "Run slice K/N of the plan (e.g. 0/4)");
  eval->add_flag("--quiet", quiet, "No progress output");
  bool verbose = false;
  std::string videos_text;
  eval->add_option("--camera-level", plan_settings.camera_level,
                   "Agentview pose randomization level 0..5 (level 5: LIBERO-Plus' hardest camera variants)")
      ->check(CLI::Range(0, 5));
  eval->add_option("--camera-mode", plan_settings.camera_mode,
                   "With --camera-level: orbit (around the look-at point) or free (position and rotation offsets)")
      ->capture_default_str();
  eval->add_option("--videos", videos_text,
                   "MP4 videos of the first N episodes of each task, or 'failures' (DIR/videos; needs ffmpeg)");
  eval->add_flag("--verbose", verbose, "One line per finished episode (progress as plain lines)");
  int replan_steps = 0;
  bool retry_failed_policy = false;
  eval->add_option("--replan-steps", replan_steps,
                   "Actions executed per chunk before the next query (default: the policy's; "
                   "remote policies: their profile's, 5 for openpi)")
      ->check(CLI::PositiveNumber);
  eval->add_flag("--retry-failed-policy", retry_failed_policy,
                 "Re-run episodes recorded with end reason policy_error (remote policy failures)");
  int processes = 1;
  eval->add_option("--processes", processes,
                   "Run the plan as this many shard processes (each with --workers threads) and "
                   "merge them into --out; software rendering scales with processes")
      ->capture_default_str();

  // render
  auto* render = app.add_subcommand("render", "Write one picture of a task as PNG");
  std::string render_task = "libero_spatial/0", render_camera = "agentview", render_out = "render.png";
  std::string render_suite;
  int render_size = 256, render_state = 0;
  bool render_shadows = false, render_all = false;
  render->add_option("--task", render_task, "Task as suite/id")->capture_default_str();
  render->add_option("--suite", render_suite, "Suite whose tasks --all draws");
  render->add_flag("--all", render_all, "One contact sheet of every task of --suite (task id in each corner)");
  render->add_option("--camera", render_camera, "Camera name (agentview, eye_in_hand)")->capture_default_str();
  render->add_option("--out", render_out, "PNG file")->capture_default_str();
  render->add_option("--size", render_size, "Image size in px")->capture_default_str();
  render->add_option("--init-state", render_state, "Stored initial state index")->capture_default_str();
  render->add_flag("--shadows", render_shadows, "Render shadows");

  // tasks, policies
  auto* tasks_command = app.add_subcommand("tasks", "List suites and tasks, or make initial states");
  auto* init_states = tasks_command->add_subcommand("init-states",
                                                    "Sample and settle a task's initial states into its data file");
  bool tasks_json = false;
  tasks_command->add_flag("--json", tasks_json, "Print suites, protocols and tasks as one JSON document");
  std::string init_task, init_suite;
  int init_count = 50;
  uint64_t init_seed = 0;
  std::string init_out;
  init_states->add_option("--task", init_task, "Task as suite/id, or 'all' for every registered task");
  init_states->add_option("--suite", init_suite, "Every task of this suite");
  init_states->add_option("--count", init_count, "Number of states")->capture_default_str();
  init_states->add_option("--seed", init_seed, "Sampling seed")->capture_default_str();
  init_states->add_option("--out", init_out, "Output file (default: the task's stored file)");
  auto* policies_command = app.add_subcommand("policies", "List policies");

  harness::add_report_command(app);

  harness::add_serve_command(app, [](const std::string& spec) { return harness::make_policy(spec); });
  harness::add_sweep_command(app);
  harness::add_merge_command(app);
  harness::add_slurm_command(app);
  harness::add_demos_command(app);
  harness::add_bench_command(app);
#ifdef VLA_WITH_TORCH
  policies::dream_vla::add_cli_commands(app);
  policies::dream_vla::add_train_command(app);
#endif

  try {
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
      return app.exit(error);
    }
    if (*eval) {
      plan_settings.suites = split_commas(suites_text);
      plan_settings.task_ids = parse_task_ids(tasks_text);
      plan_settings.episodes_per_task = episodes_per_task;
      plan_settings.seed = seed;
      plan_settings.replan_steps = replan_steps;
      plan_settings.image_size = image_size;
      if (!shard_text.empty()) harness::parse_shard(shard_text, &plan_settings);
      if (workers < 1) throw std::runtime_error("--workers must be at least 1");
      if (processes < 1) throw std::runtime_error("--processes must be at least 1");
      if (processes > 1 && !shard_text.empty()) {
        throw std::runtime_error("--processes runs every shard of the plan itself; it does not "
                                 "combine with --shard");
      }
      const auto plan = harness::make_plan(plan_settings);
      // Remote policies map observations by the run's task family (one per run).
      harness::PolicyOptions policy_options;
      policy_options.replan_steps = replan_steps;
      if (!plan.empty()) policy_options.family = plan.front().task->family;
      for (const auto& spec : plan) {
        if (spec.task->family != policy_options.family &&
            harness::is_remote_policy_spec(policy_spec)) {
          throw std::runtime_error("--policy " + policy_spec.substr(0, policy_spec.find('?')) +
                                   ": the plan mixes task families (" + policy_options.family +
                                   ", " + spec.task->family +
                                   "); run one family per invocation");
        }
      }
      if (out_dir.empty()) {
        std::string name = policy_spec.substr(0, policy_spec.find(':'));
        if (harness::is_remote_policy_spec(policy_spec)) {
          // openpi://127.0.0.1:8000?... -> openpi-127.0.0.1-8000
          std::string address = policy_spec.substr(name.size() + 3);
          address = address.substr(0, address.find_first_of("?/"));
          std::replace(address.begin(), address.end(), ':', '-');
          name += "-" + address;
        }
        out_dir = "results/runs/" + suites_text + "-" + name;
      }
      // Remote policy credentials stay out of the result files.
      auto redact = [](std::string text) {
        for (const std::string secret : {"api_key=", "api_token="}) {
          for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 1)) {
            const size_t start = at + secret.size();
            const size_t end = text.find_first_of("& '\"", start);
            text.replace(start, end == std::string::npos ? std::string::npos : end - start, "REDACTED");
          }
        }
        return text;
      };
      if (processes > 1) {
        harness::ProcessRunSettings process_settings;
        process_settings.program = std::filesystem::read_symlink("/proc/self/exe").string();
        const auto eval_at = std::find(argv + 1, argv + argc, std::string("eval"));
        process_settings.eval_args = harness::without_options(
            std::vector<std::string>(eval_at + 1, argv + argc), {"--processes", "--out", "--shard"},
            {"--quiet", "--verbose"});
        process_settings.processes = processes;
        process_settings.out_directory = out_dir;
        process_settings.command_line = redact(command_line);
        process_settings.quiet = quiet;
        const harness::ProcessRunResult result = harness::run_in_processes(plan, process_settings);
        std::printf("%s", harness::format_table(result.merge.rows).c_str());
        const double steps_per_s = result.wall_time_s > 0 ? result.observations / result.wall_time_s : 0.0;
        const int cores = std::max(
            1, std::min(processes * workers, int(std::thread::hardware_concurrency())));
        std::printf("ran %d episodes (%d already recorded) in %.1f s with %d processes x %d worker(s): "
                    "%.0f observations/s (%.0f per core)\n"
                    "results: %s/episodes.jsonl, %s/summary.json (shards in %s/shards)\n",
                    result.episodes_run, result.episodes_skipped, result.wall_time_s, processes,
                    workers, steps_per_s, steps_per_s / cores, out_dir.c_str(), out_dir.c_str(),
                    out_dir.c_str());
        for (const std::string& failure : result.failures) std::fprintf(stderr, "%s", failure.c_str());
        if (!result.failures.empty() || !result.merge.missing.empty()) {
          std::fprintf(stderr,
                       "%zu of the plan's %d episodes are missing; run the same command again to "
                       "resume\n",
                       result.merge.missing.size(), result.merge.plan_episodes);
          return 1;
        }
        return 0;
      }
      auto policy = harness::make_policy(policy_spec, policy_options);
      auto context = harness::make_context(redact(command_line), policy->info().name);
      // The plan record: resuming into this --out with another plan is refused.
      context["plan"] = harness::describe_plan(plan_settings, redact(policy_spec),
                                               plan_settings.shard_count == 1 ? &plan : nullptr);
      harness::ResultStore store(out_dir, context);
      harness::RunSettings run_settings;
      run_settings.workers = workers;
      run_settings.quiet = quiet;
      run_settings.verbose = verbose;
      if (!videos_text.empty()) {
        run_settings.videos = harness::parse_videos_option(videos_text);
        run_settings.videos.directory = (std::filesystem::path(out_dir) / "videos").string();
        if (run_settings.videos.enabled()) harness::check_ffmpeg(run_settings.videos.ffmpeg);
      }
      run_settings.replan_steps = replan_steps;
      run_settings.retry_failed_policy = retry_failed_policy;
      run_settings.render.backend = envs::parse_gl_backend(gl_backend);
      run_settings.render.shadows = shadows;
      if (image_size > 0) run_settings.render.width = run_settings.render.height = image_size;
      const harness::RunStats stats = harness::run_plan(plan, *policy, store, run_settings);

      // Summarise the episodes of this plan (resumed ones included).
      std::set<std::string> planned;
      for (const auto& spec : plan) planned.insert(spec.episode_id);
      std::vector<harness::EpisodeResult> episodes;
      for (const auto& episode : store.episodes()) {
        if (planned.count(episode.episode_id)) episodes.push_back(episode);
      }
      std::map<std::pair<std::string, int>, std::string> groups;
      for (const auto& spec : plan) groups[{spec.suite, spec.task_id}] = spec.task->group;
      const auto rows = harness::aggregate(
          episodes, [&](const std::string& suite, int task_id) { return groups[{suite, task_id}]; });
      harness::write_summary(out_dir, context, rows);
      std::printf("%s", harness::format_table(rows).c_str());
      // Every env step yields one observation (rendered for the policy's cameras).
      const double steps_per_s = stats.wall_time_s > 0 ? stats.env_steps / stats.wall_time_s : 0.0;
      const int cores = std::max(1, std::min(workers, int(std::thread::hardware_concurrency())));
      if (stats.episodes_retried > 0) {
        std::printf("re-ran %d episodes recorded with policy_error\n", stats.episodes_retried);
      }
      std::printf("ran %d episodes (%d already recorded) in %.1f s with %d worker(s): %.0f observations/s"
                  " (%.0f per core); %ld policy calls, largest batch %d\n"
                  "results: %s/episodes.jsonl, %s/summary.json\n",
                  stats.episodes_run, stats.episodes_skipped, stats.wall_time_s, workers,
                  steps_per_s, steps_per_s / cores,
                  stats.policy_calls, stats.max_batch, out_dir.c_str(), out_dir.c_str());
      return 0;
    }
    if (*render) {
      envs::EnvSettings settings;
      settings.cameras.clear();
      settings.render.width = settings.render.height = render_size;
      settings.render.shadows = render_shadows;
      settings.render.multisamples = 4;
      auto picture = [&](const std::shared_ptr<const tasks::TaskDefinition>& task) {
        auto env = tasks::make_episode_env(task, settings);
        env->reset(render_state);
        envs::Image image;
        env->env().render(render_camera, &image);
        return image;
      };
      if (render_all) {
        if (render_suite.empty()) throw std::runtime_error("render --all needs --suite (e.g. libero_goal)");
        const tasks::SuiteInfo& suite = tasks::find_suite(render_suite);
        std::vector<envs::Image> cells;
        std::vector<std::string> labels;
        for (int id = 0; id < suite.task_count(); ++id) {
          cells.push_back(picture(tasks::load_task(suite.name, id)));
          labels.push_back(std::to_string(id));
        }
        harness::ContactSheetSettings sheet_settings;
        sheet_settings.label_scale = std::max(2, render_size / 64);
        const envs::Image sheet = harness::make_contact_sheet(cells, labels, sheet_settings);
        envs::write_png(render_out, sheet);
        std::printf("wrote %s (%dx%d, %zu tasks of %s, %s, init state %d)\n", render_out.c_str(),
                    sheet.width, sheet.height, cells.size(), suite.name.c_str(), render_camera.c_str(),
                    render_state);
        return 0;
      }
      if (!render_suite.empty()) throw std::runtime_error("render --suite needs --all (or use --task suite/id)");
      auto task = tasks::load_task(render_task);
      const envs::Image image = picture(task);
      envs::write_png(render_out, image);
      std::printf("wrote %s (%dx%d, %s, %s)\n", render_out.c_str(), image.width, image.height,
                  task->key.c_str(), render_camera.c_str());
      return 0;
    }
    if (*init_states) {
      // Which tasks: one (--task suite/id), a suite (--suite), or all.
      std::vector<std::pair<std::string, int>> selected;
      if (init_task.empty() == init_suite.empty()) {
        throw std::runtime_error("tasks init-states needs exactly one of --task suite/id|all and --suite S");
      }
      for (const auto& suite : tasks::suites()) {
        if (init_task != "all" && suite.name != init_suite) continue;
        // Only LIBERO-style tasks have stored initial states; the others lay episodes out in code.
        if (suite.family != "libero") continue;
        for (int id = 0; id < suite.task_count(); ++id) selected.emplace_back(suite.name, id);
      }
      if (!init_suite.empty()) tasks::find_suite(init_suite);
      if (!init_task.empty() && init_task != "all") {
        const auto task = tasks::load_task(init_task, false);
        if (task->family != "libero") {
          throw std::runtime_error(task->key + " lays its episodes out in code: it has no stored initial states");
        }
        selected = {{task->suite, task->id}};
      }
      if (!init_out.empty() && selected.size() != 1) {
        throw std::runtime_error("tasks init-states --out names one file; it needs a single --task");
      }
      for (const auto& [suite_name, id] : selected) {
        auto task = tasks::load_task(suite_name, id, false);
        tasks::InitStateSettings settings;
        settings.count = init_count;
        settings.seed = init_seed;
        const tasks::InitStates made = tasks::make_init_states(*task, settings);
        std::unique_ptr<mjModel, decltype(&mj_deleteModel)> model(
            envs::load_model_from_string(task->scene.mjcf), mj_deleteModel);
        const std::string path = init_out.empty() ? task->init_states_file : init_out;
        tasks::save_init_states(path, *task, model.get(), made.states, init_seed);
        std::string reasons;
        for (const auto& [reason, count] : made.reasons) {
          reasons += (reasons.empty() ? " (" : "; ") + reason + " x" + std::to_string(count);
        }
        if (!reasons.empty()) reasons += ")";
        std::printf("wrote %zu initial states of %s to %s; %d samples rejected%s\n", made.states.size(),
                    task->key.c_str(), path.c_str(), made.rejected, reasons.c_str());
        std::fflush(stdout);
      }
      return 0;
    }
    if (*tasks_command) {
      // Listing needs only the task files, not the scenes.
      nlohmann::json suites_json = nlohmann::json::array();
      for (const auto& suite : tasks::suites()) {
        if (!tasks_json && suite.definitions) {
          std::printf("%s (%s; %d Hz; steps and episodes per task)\n", suite.name.c_str(),
                      suite.family.c_str(), suite.protocol.control_hz);
        } else if (!tasks_json) {
          std::printf("%s (%s; max %d steps, %d episodes per task)\n", suite.name.c_str(),
                      suite.family.c_str(), suite.protocol.max_steps, suite.protocol.episodes_per_task);
        }
        nlohmann::json task_list = nlohmann::json::array();
        if (suite.definitions) {
          const std::vector<tasks::TaskDefinition> definitions = suite.definitions();
          for (size_t id = 0; id < definitions.size(); ++id) {
            const tasks::TaskDefinition& task = definitions[id];
            const std::string key = suite.name + "/" + std::to_string(id);
            if (!tasks_json) {
              std::printf("  %-14s %-44s %s (%d steps, %d episodes)\n", key.c_str(), task.name.c_str(),
                          task.instruction.c_str(), task.protocol.max_steps, task.episodes);
            }
            task_list.push_back({{"id", id}, {"key", key}, {"name", task.name},
                                 {"instruction", task.instruction}, {"group", task.group},
                                 {"variant", task.variant}, {"episodes", task.episodes},
                                 {"max_steps", task.protocol.max_steps}});
          }
        }
        for (size_t id = 0; id < suite.task_files.size(); ++id) {
          const std::string file = suite.task_files[id];
          const tasks::TaskSpec spec =
              tasks::load_bddl((std::filesystem::path(tasks::tasks_directory()) / file).string());
          const std::string key = suite.name + "/" + std::to_string(id);
          if (!tasks_json) std::printf("  %-18s %s\n", key.c_str(), spec.language.c_str());
          task_list.push_back({{"id", id}, {"key", key}, {"instruction", spec.language}, {"file", file}});
        }
        suites_json.push_back({{"name", suite.name},
                               {"family", suite.family},
                               {"protocol",
                                {{"max_steps", suite.protocol.max_steps},
                                 {"wait_steps", suite.protocol.wait_steps},
                                 {"episodes_per_task", suite.protocol.episodes_per_task},
                                 {"control_hz", suite.protocol.control_hz}}},
                               {"tasks", task_list}});
      }
      if (tasks_json) std::printf("%s\n", nlohmann::json{{"suites", suites_json}}.dump(1).c_str());
      return 0;
    }
    if (*policies_command) {
      for (const auto& [name, description] : harness::policy_names()) {
        std::printf("%-16s %s\n", name.c_str(), description.c_str());
      }
      return 0;
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "vla-harness: %s\n", error.what());
    return 1;
  }
  return 0;
}
