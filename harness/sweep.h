// Sweeps: a grid of eval runs (suites x policies x camera levels x seeds),
// one run directory per cell under the sweep's output directory. Each cell
// is a `vla-harness eval` run, so a sweep run again resumes every cell.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace harness {

struct SweepSpec {
  std::vector<std::string> suites = {"libero_spatial"};  // suites (or families) of the grid
  std::vector<std::string> policies = {"scripted"};      // policy specs of the grid
  std::vector<int> camera_levels = {0};                  // camera levels 0..5 of the grid
  std::vector<uint64_t> seeds = {7};                     // run seeds of the grid
  std::string camera_mode = "orbit";                     // "orbit" or "free", every cell
  std::string tasks = "all";                             // task ids of every cell ("0,1" or "all")
  int episodes_per_task = 0;                             // 0: the suite protocol's
  int workers = 1;                                       // worker threads per cell
  std::vector<std::string> eval_args;                    // further eval arguments for every cell
};

struct SweepCell {
  std::string suite, policy;
  int camera_level = 0;
  uint64_t seed = 0;
  std::string name;       // "<suite>__<policy>__cam<L>__seed<S>" (file-name safe)
  std::string directory;  // the cell's run directory
  // The eval arguments of the cell (after "eval").
  std::vector<std::string> eval_args;
};

// Reads a JSON spec {"suites": [...], "policies": [...], "camera_levels": [...],
// "seeds": [...], "camera_mode": "...", "tasks": "...", "episodes_per_task": N,
// "workers": N, "eval_args": [...]} (every key optional). Throws
// std::runtime_error naming the file and the bad key or value.
SweepSpec load_sweep_spec(const std::string& path);

// The grid in order suites, policies, camera levels, seeds (the last varies
// fastest). Throws std::runtime_error for an empty axis, a camera level out
// of 0..5, an unknown camera mode, or two cells with one directory.
std::vector<SweepCell> sweep_cells(const SweepSpec& spec, const std::string& out_directory);

// What a cell's summary.json says ("pending" when it has none).
struct CellOutcome {
  std::string status = "pending";  // "pending", "done", "failed" (the eval exited non-zero)
  int episodes = 0, successes = 0, errors = 0;
  double success_rate = 0;
  double ci_low = 0, ci_high = 0;  // Wilson 95% of the pooled episodes
};
CellOutcome read_cell_outcome(const SweepCell& cell);

// The table of cells with their outcomes.
std::string format_sweep_table(const std::vector<SweepCell>& cells,
                               const std::vector<CellOutcome>& outcomes);

// Runs every cell as a child `program eval ...` (stderr and stdout shared),
// in order; a cell whose eval is killed by a signal runs once more (it
// resumes); a failing cell is recorded and the rest still run. Returns the
// outcomes.
std::vector<CellOutcome> run_sweep(const std::vector<SweepCell>& cells, const std::string& program);

// `vla-harness sweep`.
void add_sweep_command(CLI::App& app);

}  // namespace harness
