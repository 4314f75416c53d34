// Progress of a run: episodes done/total, running success rate,
// observations/s and ETA. On a terminal one line redrawn in place (\r);
// otherwise plain lines every `interval_s` seconds or every `fraction_step`
// of the episodes.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

namespace harness {

struct ProgressSettings {
  bool live = false;       // one updating line (a terminal); false: plain lines
  double interval_s = 10;  // plain lines: at least this often while episodes run, s
  double fraction_step =
      0.05;              // plain lines: also whenever another this fraction of episodes is done
  double refresh_s = 1;  // live line: redrawn at least this often, s
};

class Progress {
 public:
  // `total` episodes in the plan, `already_done` of them recorded before this
  // run (they count as done, not in the rate or the speed). Writes to `out`.
  Progress(int total, int already_done, std::FILE* out, ProgressSettings settings);
  ~Progress();  // finish()
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // One episode finished after `observations` environment steps. Thread-safe.
  void episode_done(bool success, long observations);
  // Writes the final line (live: ends the line); further calls do nothing.
  void finish();
  // The current status text, e.g. "[12/50 24%] success 83.3% | 412 obs/s | ETA 3m10s".
  std::string status() const;

 private:
  std::string status_locked() const;  // mutex_ held
  void print(bool final);             // mutex_ held
  void tick();
  int total_, already_done_;
  std::FILE* out_;
  ProgressSettings settings_;
  std::chrono::steady_clock::time_point start_, last_print_, last_episode_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  int done_ = 0, successes_ = 0;
  long observations_ = 0;
  int printed_step_ = 0;   // plain lines: fraction steps already printed
  int printed_done_ = -1;  // done_ at the last line printed
  bool finished_ = false;
  std::thread ticker_;
};

// "1h02m", "3m10s", "42s".
std::string format_duration(double seconds);

}  // namespace harness
