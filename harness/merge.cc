#include "harness/merge.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

#include "harness/plan.h"

namespace harness {

namespace {

// "policy zero here, scripted there; seed 7 here, 8 there"
std::string describe_differences(const std::vector<PlanDifference>& differences,
                                 const std::string& first, const std::string& second) {
  std::string text;
  for (const PlanDifference& d : differences) {
    text += (text.empty() ? "" : "; ") + d.field + " " + d.first + " in " + first + ", " +
            d.second + " in " + second;
  }
  return text;
}

std::string join_command_line(const std::vector<std::string>& inputs, const std::string& out) {
  std::string text = "vla-harness merge";
  for (const std::string& input : inputs) text += " " + input;
  return text + " --out " + out;
}

}  // namespace

MergeReport merge_runs(const std::vector<std::string>& inputs, const std::string& out_directory,
                       const std::string& command_line) {
  if (inputs.empty()) throw std::runtime_error("merge: no run directories given");
  namespace fs = std::filesystem;
  const fs::path out_path = fs::weakly_canonical(fs::absolute(out_directory));
  std::vector<RecordedRun> runs;
  for (const std::string& input : inputs) {
    if (fs::weakly_canonical(fs::absolute(input)) == out_path) {
      throw std::runtime_error("merge: --out " + out_directory +
                               " is also an input; merge into another directory");
    }
    runs.push_back(read_run(input));
    const nlohmann::json& context = runs.back().context;
    if (!context.is_object() || !context.contains("plan")) {
      throw std::runtime_error("merge: " + input +
                               "/episodes.jsonl has no plan record in its context "
                               "(recorded by an older vla-harness); re-run it to merge it");
    }
  }
  // One plan: every input agrees with the first, shard aside, and no shard twice.
  const nlohmann::json& plan_record = runs[0].context["plan"];
  std::map<std::string, std::string> shard_owner;
  for (size_t i = 0; i < runs.size(); ++i) {
    const nlohmann::json& record = runs[i].context["plan"];
    const auto differences = plan_differences(plan_record, record, true);
    if (!differences.empty()) {
      throw std::runtime_error("merge: " + inputs[0] + " and " + inputs[i] +
                               " were recorded with different plans: " +
                               describe_differences(differences, inputs[0], inputs[i]));
    }
    const std::string shard = record.value("shard", std::string("0/1"));
    const auto [owner, inserted] = shard_owner.try_emplace(shard, inputs[i]);
    if (!inserted) {
      throw std::runtime_error("merge: " + owner->second + " and " + inputs[i] +
                               " are both shard " + shard + " of the plan");
    }
  }

  // The whole plan, rebuilt from its settings; it must still be the recorded one.
  PlanSettings settings = plan_settings_from(plan_record);
  settings.shard_index = 0;
  settings.shard_count = 1;
  const std::vector<EpisodeSpec> plan = make_plan(settings);
  const nlohmann::json whole_record =
      describe_plan(settings, plan_record.value("policy", ""), &plan);
  if (whole_record["plan_id"] != plan_record["plan_id"]) {
    throw std::runtime_error("merge: the plan of " + inputs[0] +
                             " no longer matches this vla-harness's tasks (task protocols, "
                             "instructions or episode seeds changed since it was recorded)");
  }

  // Episodes by id; an id in two inputs, or not in the plan, is refused.
  std::map<std::string, size_t> plan_index;
  for (size_t i = 0; i < plan.size(); ++i) plan_index[plan[i].episode_id] = i;
  std::vector<const EpisodeResult*> by_plan(plan.size(), nullptr);
  std::vector<size_t> source(plan.size(), 0);
  for (size_t r = 0; r < runs.size(); ++r) {
    for (const EpisodeResult& episode : runs[r].episodes) {
      const auto it = plan_index.find(episode.episode_id);
      if (it == plan_index.end()) {
        throw std::runtime_error("merge: " + inputs[r] + " holds episode " + episode.episode_id +
                                 ", which is not in the plan");
      }
      if (by_plan[it->second]) {
        throw std::runtime_error("merge: episode " + episode.episode_id + " is recorded in both " +
                                 inputs[source[it->second]] + " and " + inputs[r] +
                                 "; merge each episode from one run only");
      }
      by_plan[it->second] = &episode;
      source[it->second] = r;
    }
  }
  MergeReport report;
  report.plan_episodes = int(plan.size());
  std::vector<EpisodeResult> episodes;
  for (size_t i = 0; i < plan.size(); ++i) {
    if (by_plan[i]) {
      episodes.push_back(*by_plan[i]);
    } else {
      report.missing.push_back(plan[i].episode_id);
    }
  }
  report.merged_episodes = int(episodes.size());

  // The output: refuse to replace a run of another plan.
  fs::create_directories(out_path);
  const std::string out_file = (out_path / "episodes.jsonl").string();
  if (fs::exists(out_file) && fs::file_size(out_file) > 0) {
    const RecordedRun existing = read_run(out_path.string());
    const nlohmann::json existing_plan = existing.context.is_object()
                                             ? existing.context.value("plan", nlohmann::json())
                                             : nlohmann::json();
    if (existing_plan.is_null() ||
        existing_plan.value("plan_id", "") != plan_record.value("plan_id", "")) {
      throw std::runtime_error("merge: " + out_directory +
                               " already holds a run of another plan; merge into "
                               "an empty directory");
    }
  }
  nlohmann::json context =
      make_context(command_line.empty() ? join_command_line(inputs, out_directory) : command_line,
                   runs[0].context.value("policy", ""));
  context["plan"] = whole_record;
  context["merged_from"] = inputs;
  context["missing_episodes"] = report.missing.size();
  {
    const std::string temporary = out_file + ".tmp";
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << nlohmann::json{{"context", context}}.dump() << "\n";
    for (const EpisodeResult& episode : episodes) out << to_json(episode).dump() << "\n";
    out.flush();
    if (!out) throw std::runtime_error("merge: cannot write " + temporary);
    out.close();
    fs::rename(temporary, out_file);
  }
  std::map<std::pair<std::string, int>, std::string> groups;
  for (const EpisodeSpec& spec : plan) groups[{spec.suite, spec.task_id}] = spec.task->group;
  report.rows = aggregate(episodes, [&](const std::string& suite, int task_id) {
    return groups[{suite, task_id}];
  });
  write_summary(out_path.string(), context, report.rows);
  return report;
}

void add_merge_command(CLI::App& app) {
  CLI::App* command = app.add_subcommand(
      "merge", "Join the run directories of the shards of one plan (eval --shard K/N) into one");
  auto inputs = std::make_shared<std::vector<std::string>>();
  auto out = std::make_shared<std::string>();
  command->add_option("directories", *inputs, "Run directories of the shards")->required();
  command->add_option("--out", *out, "Merged run directory (episodes.jsonl, summary.json)")
      ->required();
  command->callback([inputs, out] {
    const MergeReport report = merge_runs(*inputs, *out, join_command_line(*inputs, *out));
    std::printf("%s", format_table(report.rows).c_str());
    std::printf("merged %d of the plan's %d episodes from %zu run directories into %s\n",
                report.merged_episodes, report.plan_episodes, inputs->size(), out->c_str());
    if (!report.missing.empty()) {
      std::string listed;
      for (size_t i = 0; i < report.missing.size() && i < 10; ++i) {
        listed += (i ? ", " : "") + report.missing[i];
      }
      if (report.missing.size() > 10) listed += ", ...";
      std::fprintf(stderr, "merge: %zu episodes of the plan are missing (gaps): %s\n",
                   report.missing.size(), listed.c_str());
      // The merged run is written; the exit status tells scripts it is incomplete.
      throw CLI::RuntimeError(kMergeGapsExitCode);
    }
  });
}

}  // namespace harness
