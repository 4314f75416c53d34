// Results: one JSONL line per finished episode (appended and flushed), and a
// summary with Wilson intervals; both carry a context block.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/plan.h"

namespace harness {

inline constexpr int kSchemaVersion = 1;

struct EpisodeResult {
  std::string episode_id;
  std::string suite;
  int task_id = 0;
  int init_state = 0;
  uint64_t seed = 0;
  bool success = false;
  int steps = 0;                 // policy steps taken (wait steps not counted)
  // "success", "max_steps", "error" (the harness or a local policy failed) or
  // "policy_error" (a remote policy failed: server error, dead server, timeout, bad reply)
  std::string end_reason;
  std::string error;             // what went wrong, for end_reasons "error" and "policy_error"
  double wall_time_s = 0;
  // Remote policies: "requests", "round_trip_ms_mean", "round_trip_ms_max" (client side),
  // "server_ms_mean", "policy_ms_mean" (when the server reports them), "reconnects"
  std::map<std::string, double> timing;
  std::map<std::string, envs::CameraPerturbation> cameras;
  std::map<std::string, double> metrics;  // besides success, by name (Bridge: "grasp" 0 or 1)
};

nlohmann::json to_json(const EpisodeResult& result);
EpisodeResult episode_from_json(const nlohmann::json& json);

// Who, what and where: written at the top of every result file.
nlohmann::json make_context(const std::string& command_line, const std::string& policy_name);

// Wilson score interval for `successes` out of `n` at 95% (z = 1.96).
struct Interval {
  double low = 0, high = 0;
};
Interval wilson_interval(int successes, int n, double z = 1.959963984540054);

// A run directory's episodes.jsonl as read, without changing it.
struct RecordedRun {
  nlohmann::json context;              // the first line's context block
  bool has_context = false;            // false for an empty file (or one holding only a torn line)
  std::vector<EpisodeResult> episodes;  // in first-recorded order, latest line each
  size_t complete_bytes = 0;           // file length up to the end of the last complete line
  size_t torn_bytes = 0;               // bytes after it: a line cut short by a kill, not data
};

// Reads DIR/episodes.jsonl. A last line without its newline is torn (the writer
// was killed mid-line) and is skipped, never parsed. Throws std::runtime_error
// naming the file and line for a malformed complete line, a first line that is
// not the context block, or a missing file.
RecordedRun read_run(const std::string& directory);

// Appends episodes to DIR/episodes.jsonl; thread-safe. Opening an existing run
// directory reads the episodes already recorded, so a resumed run skips them.
// An episode recorded twice (re-run after a policy_error) counts by its last line.
// A torn last line is cut off the file before anything is appended. If both the
// recorded context and `context` carry a "plan" record (describe_plan) and they
// differ, the constructor throws std::runtime_error naming what differs. While a
// store is open, another process cannot open one on the same directory.
class ResultStore {
 public:
  ResultStore(const std::string& directory, const nlohmann::json& context);
  ~ResultStore();
  ResultStore(const ResultStore&) = delete;
  ResultStore& operator=(const ResultStore&) = delete;

  bool has(const std::string& episode_id) const;
  // The end reason recorded for the episode ("" if none).
  std::string end_reason(const std::string& episode_id) const;
  void append(const EpisodeResult& result);    // one line, flushed and fsynced
  std::vector<EpisodeResult> episodes() const;  // every recorded episode
  const std::string& directory() const { return directory_; }
  // The context block the file starts with (the recorded one when resuming).
  const nlohmann::json& context() const { return context_; }
  size_t torn_bytes_discarded() const { return torn_bytes_discarded_; }

 private:
  std::string directory_;
  nlohmann::json context_;
  size_t torn_bytes_discarded_ = 0;
  mutable std::mutex mutex_;
  int fd_ = -1;
  std::map<std::string, size_t> recorded_;  // episode id -> index in episodes_
  std::vector<EpisodeResult> episodes_;      // in first-recorded order, latest line each
  void record(EpisodeResult result);         // adds or supersedes; mutex_ held
};

struct Aggregate {
  std::string suite;
  std::string task;              // task id; "all" for the suite row; the group's name for a group row
  bool is_group = false;         // a row averaging the tasks of one group (e.g. every drawer task)
  int episodes = 0, successes = 0, errors = 0;  // errors: end reason "error" or "policy_error"
  double success_rate = 0;       // task: successes / episodes; group and suite: see aggregate()
  Interval ci95;                 // Wilson interval of the pooled episodes
  std::map<std::string, double> metrics;  // mean of each episode metric (e.g. "grasp" rate)
};

// The group a task belongs to ("" for none), for suites whose reports average
// over groups (SimplerEnv-style: every variant and orientation of one task).
using GroupOf = std::function<std::string(const std::string& suite, int task_id)>;

// Rows per task and per suite, in plan order (suites, then tasks by id). With
// `group_of`, each group also gets a row whose rate is the mean of its tasks'
// rates, and a suite with groups gets, as its rate, the mean over its groups
// (ungrouped tasks count as groups of one), as SimplerEnv aggregates variants.
// Without groups a suite's rate is its pooled success rate.
std::vector<Aggregate> aggregate(const std::vector<EpisodeResult>& episodes,
                                 const GroupOf& group_of = nullptr);

// Writes DIR/summary.json (context + aggregates).
void write_summary(const std::string& directory, const nlohmann::json& context,
                   const std::vector<Aggregate>& rows);

// The table printed at the end of a run.
std::string format_table(const std::vector<Aggregate>& rows);

}  // namespace harness
