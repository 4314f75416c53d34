#include "harness/progress.h"

#include <algorithm>
#include <cmath>

namespace harness {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = std::lround(seconds);
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof(text), "%ldh%02ldm", s / 3600, s / 60 % 60);
  } else if (s >= 60) {
    std::snprintf(text, sizeof(text), "%ldm%02lds", s / 60, s % 60);
  } else {
    std::snprintf(text, sizeof(text), "%lds", s);
  }
  return text;
}

Progress::Progress(int total, int already_done, std::FILE* out, ProgressSettings settings)
    : total_(total),
      already_done_(already_done),
      out_(out),
      settings_(settings),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_),
      last_episode_(start_) {
  ticker_ = std::thread([this] { tick(); });
}

Progress::~Progress() { finish(); }

std::string Progress::status() const {
  std::lock_guard lock(mutex_);
  return status_locked();
}

std::string Progress::status_locked() const {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int done = already_done_ + done_;
  const int remaining = total_ - done;
  char rate[16] = "-";
  if (done_ > 0) std::snprintf(rate, sizeof(rate), "%.1f%%", 100.0 * successes_ / done_);
  const double percent = total_ > 0 ? 100.0 * done / total_ : 100.0;
  // Observations are counted when episodes finish: the speed up to the last one.
  const double counted = std::chrono::duration<double>(last_episode_ - start_).count();
  const double speed = counted > 0 ? observations_ / counted : 0.0;
  const std::string eta = remaining <= 0 ? "0s"
                          : done_ > 0    ? format_duration(elapsed / done_ * remaining)
                                         : "?";
  char text[200];
  std::snprintf(text, sizeof(text), "[%d/%d %.0f%%] success %s | %.0f obs/s | elapsed %s | ETA %s",
                done, total_, percent, rate, speed, format_duration(elapsed).c_str(), eta.c_str());
  return text;
}

void Progress::print(bool final) {
  const std::string line = status_locked();
  if (settings_.live) {
    std::fprintf(out_, "\r%s\x1b[K%s", line.c_str(), final ? "\n" : "");
  } else {
    std::fprintf(out_, "progress %s\n", line.c_str());
  }
  std::fflush(out_);
  last_print_ = std::chrono::steady_clock::now();
  printed_done_ = done_;
}

void Progress::episode_done(bool success, long observations) {
  std::unique_lock lock(mutex_);
  if (finished_) return;
  ++done_;
  successes_ += success;
  observations_ += observations;
  last_episode_ = std::chrono::steady_clock::now();
  if (settings_.live) {
    print(false);
    return;
  }
  // Plain lines: at every fraction step of the plan's episodes.
  const int step_size = std::max(1, int(std::ceil(settings_.fraction_step * total_)));
  const int step = (already_done_ + done_) / step_size;
  if (step > printed_step_) {
    printed_step_ = step;
    print(false);
  }
}

void Progress::tick() {
  std::unique_lock lock(mutex_);
  const auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(settings_.live ? settings_.refresh_s : settings_.interval_s));
  while (!finished_) {
    if (wake_.wait_until(lock, last_print_ + period, [&] { return finished_; })) break;
    // An episode may have printed meanwhile.
    if (std::chrono::steady_clock::now() >= last_print_ + period) print(false);
  }
}

void Progress::finish() {
  {
    std::unique_lock lock(mutex_);
    if (finished_) return;
    finished_ = true;
    // Plain lines: the last one already says it all unless episodes finished since.
    if (settings_.live || printed_done_ != done_) print(true);
  }
  wake_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

}  // namespace harness
