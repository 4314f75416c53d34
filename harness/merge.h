// `vla-harness merge`: joins the run directories of the shards of one plan
// (eval --shard K/N) into one run directory, as if the plan had run unsharded.
#pragma once

#include <string>
#include <vector>

#include "harness/results.h"

namespace CLI {
class App;
}

namespace harness {

// Exit status of `vla-harness merge` when the merged run has gaps (it is
// still written).
constexpr int kMergeGapsExitCode = 3;

struct MergeReport {
  int plan_episodes = 0;             // episodes the whole plan has
  int merged_episodes = 0;           // episodes written to the output
  std::vector<std::string> missing;  // episode ids of the plan that no input holds, in plan order
  std::vector<Aggregate> rows;       // the summary's rows
};

// Reads every input's episodes.jsonl, checks they were recorded with one plan
// (the plan record of the context block, shard aside), and writes
// OUT/episodes.jsonl (context, then the episodes in plan order) and
// OUT/summary.json. Missing episodes are reported, not an error. Throws
// std::runtime_error naming the directories if an input has no plan record,
// inputs differ in plan (naming what differs), an episode is recorded in two
// inputs or is not in the plan, or OUT already holds a run of another plan.
MergeReport merge_runs(const std::vector<std::string>& inputs, const std::string& out_directory,
                       const std::string& command_line);

// Adds the `merge` subcommand: merge DIR... --out DIR.
void add_merge_command(CLI::App& app);

}  // namespace harness
