// `vla-harness report`: Markdown, CSV and one self-contained HTML page (inline
// SVG plots) over run directories, with published baselines beside the runs
// and an exact McNemar test for runs on the same plan; and the sim-vs-real
// ranking metrics (MMRV, Pearson) of harness/sim_real.h.
#pragma once

#include <array>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness/results.h"

namespace CLI {
class App;
}

namespace harness {

// ---- Published baselines (results/baselines/*.json) ----

// Published numbers of one policy on one suite, as fractions (0..1).
struct BaselineEntry {
  std::string policy;
  std::string suite;                     // harness suite name, e.g. "libero_spatial"
  std::map<std::string, double> values;  // "success", and "grasp", "overall" where published
  // Per task name (e.g. "put_carrot_on_plate") or group (e.g. "drawer"): its values.
  std::map<std::string, std::map<std::string, double>> tasks;
};

// One baselines file: a published table and where it comes from.
struct BaselineTable {
  std::string file;                                 // path it was read from
  std::string benchmark;                            // e.g. "SimplerEnv-Bridge"
  std::string source;                               // paper and table
  std::string simulator;                            // where the published numbers were measured
  std::map<std::string, std::string> suite_labels;  // harness suite -> published column name
  std::map<std::string, std::string> task_labels;   // task or group name -> published column name
  std::vector<std::string> policies;                // in file order
  std::vector<BaselineEntry> entries;               // policy x suite, in file order
  // Per policy: numbers over several suites (e.g. "average", "overall"), as fractions.
  std::map<std::string, std::map<std::string, double>> summaries;
};

// Reads one file; "unit": "percent" (numbers 0..100) or "fraction" (0..1).
// Throws std::runtime_error naming the file and what is wrong.
BaselineTable load_baseline_table(const std::string& path);

// Every *.json file of `directory`, sorted by name. Throws std::runtime_error
// if the directory does not exist or a file is malformed.
std::vector<BaselineTable> load_baselines(const std::string& directory);

// The default baselines directory: $VLA_BASELINES_DIR, else the source tree's
// results/baselines.
std::string default_baselines_directory();

// ---- Runs ----

// One run directory as a report sees it.
struct RunData {
  std::string directory;
  std::string label;       // short unique name (the directory's last component, or more)
  std::string policy;      // the context's policy name
  nlohmann::json context;  // the context block of episodes.jsonl
  std::vector<EpisodeResult> episodes;  // last line per episode id, in first-recorded order
  std::vector<Aggregate> rows;          // per task, group and suite (harness::aggregate)
  // Camera perturbation setting: its label ("none", "level 2 (orbit)",
  // "position 0.02 m, rotation 0.05 rad, fovy 0 deg"), and its level when the
  // run records one (an episode's or the context's camera_level, or
  // --camera-level in the command line); NaN otherwise.
  std::string camera;
  double camera_level = NAN;
  std::array<double, 3> camera_magnitude{};  // position m, rotation rad, fovy deg (--camera-*)
};

// Reads DIR/episodes.jsonl (context line first; a torn last line is ignored;
// an episode recorded twice counts by its last line) and aggregates it with
// the task groups of the suite registry. Throws std::runtime_error naming the
// file if it is missing, malformed or holds no episode.
RunData load_run(const std::string& directory);

// Gives every run a unique label (directory names; parents added on clashes).
void label_runs(std::vector<RunData>* runs);

// ---- Paired comparison ----

// Two-sided exact McNemar test: with b discordant pairs one way and c the
// other, p = min(1, 2 * P[X <= min(b, c)]) for X ~ Binomial(b + c, 1/2); 1 when
// b + c = 0.
double mcnemar_exact_p(int b, int c);

struct PairedComparison {
  std::string run_a, run_b;  // labels
  std::string suites;        // suites of the matched episodes, comma separated
  int matched = 0;           // episode ids both runs recorded
  int both = 0;              // both succeeded
  int only_a = 0;            // b: A succeeded, B failed
  int only_b = 0;            // c: B succeeded, A failed
  int neither = 0;
  bool same_plan = false;  // both runs recorded exactly the same episode ids
  double p_value = 1;      // exact McNemar on (only_a, only_b)
};

// Matches episodes by id; `matched` is 0 when the runs share none.
PairedComparison compare_paired(const RunData& a, const RunData& b);

// ---- Report files ----

struct ReportSettings {
  std::string out_directory;  // where report.md, report.csv and report.html go
  std::string title = "vla-harness report";
  bool pair_partial_overlap = true;  // also test pairs that share only some episodes
};

// One CSV row per run x suite x task/group/suite row.
std::string format_report_csv(const std::vector<RunData>& runs);
std::string format_report_markdown(const std::vector<RunData>& runs,
                                   const std::vector<BaselineTable>& baselines,
                                   const std::vector<PairedComparison>& comparisons,
                                   const ReportSettings& settings);
// Self-contained: inline CSS and SVG, no scripts, no external references.
// The success vs camera setting plot (one line per policy and suite) as a
// standalone SVG document.
std::string camera_plot_svg(const std::vector<RunData>& runs);

std::string format_report_html(const std::vector<RunData>& runs,
                               const std::vector<BaselineTable>& baselines,
                               const std::vector<PairedComparison>& comparisons,
                               const ReportSettings& settings);

// Every pair of runs that share episode ids (pairs with a partial overlap only
// if settings.pair_partial_overlap).
std::vector<PairedComparison> paired_comparisons(const std::vector<RunData>& runs,
                                                 const ReportSettings& settings);

// Writes DIR/report.md, DIR/report.csv and DIR/report.html; returns the paired
// comparisons it made. Throws std::runtime_error if a file cannot be written.
std::vector<PairedComparison> write_report(const std::vector<RunData>& runs,
                                           const std::vector<BaselineTable>& baselines,
                                           const ReportSettings& settings);

// Adds the `report` subcommand: `report RUN... --out DIR [--baselines DIR]`
// writes the report; `--sim FILE | --sim-run POLICY=DIR ... --real FILE`
// prints MMRV and Pearson per task; both may be given.
void add_report_command(CLI::App& app);

// ---- Shared by the Markdown and HTML writers ----

// Published values matching a run row: (table, entry, values) for the row's
// suite and, for task and group rows, its task name or group.
struct PublishedMatch {
  const BaselineTable* table = nullptr;
  const BaselineEntry* entry = nullptr;
  const std::map<std::string, double>* values = nullptr;
};
std::vector<PublishedMatch> published_for_suite(const std::vector<BaselineTable>& baselines,
                                                const std::string& suite);
std::vector<PublishedMatch> published_for_task(const std::vector<BaselineTable>& baselines,
                                               const std::string& suite,
                                               const std::string& task_or_group);

// The registry's name of task `task_id` of `suite` (e.g. "put_carrot_on_plate"),
// or "" if the suite or task is unknown.
std::string registry_task_name(const std::string& suite, int task_id);

// Distinct suites of the runs, in first-seen order.
std::vector<std::string> report_suites(const std::vector<RunData>& runs);

// Orders runs by camera setting: none, then levels ascending, then custom bounds.
bool camera_order(const RunData* a, const RunData* b);

// The label of a row's task column: "3 put_carrot_on_plate", "[drawer]", "all".
std::string row_task_label(const Aggregate& row);

}  // namespace harness
