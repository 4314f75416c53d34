// Episode videos: MP4 (H.264) through the ffmpeg program, fed raw RGB frames
// through a pipe; the agentview at 224 px with the instruction and the step
// drawn on each frame. Only the chosen episodes are rendered for video.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "envs/render.h"
#include "harness/plan.h"
#include "harness/results.h"
#include "tasks/episode_env.h"

namespace harness {

struct VideoSettings {
  int first_episodes = 0;  // record episodes 0 .. this-1 of every task (by init state / layout)
  bool failures = false;   // render every episode, keep the videos of failed ones
  std::string directory;   // where the MP4 files go (the run's DIR/videos)
  std::string camera = "agentview";  // camera rendered for the video
  int size = 224;                    // px, square frames (even)
  std::string ffmpeg = "ffmpeg";     // the ffmpeg program
  bool enabled() const { return first_episodes > 0 || failures; }
};

// "--videos N" (first N episodes per task) or "--videos failures"; throws
// std::runtime_error naming the flag for anything else.
VideoSettings parse_videos_option(const std::string& text);

// Throws std::runtime_error unless `ffmpeg` runs and has the libx264 encoder.
void check_ffmpeg(const std::string& ffmpeg = "ffmpeg");

// The video file of an episode: DIR/<episode id with '/' -> '_'>.mp4.
std::string video_path(const std::string& directory, const std::string& episode_id);

// One MP4 being written by an ffmpeg child process. Ignores SIGPIPE for the
// process (a dead encoder is then an error from write(), not a signal).
class VideoWriter {
 public:
  // Starts encoding to `path` (MP4 container whatever the file's extension)
  // frames of width x height (even) at `fps`. Throws std::runtime_error if
  // ffmpeg cannot be started.
  VideoWriter(const std::string& path, int width, int height, double fps,
              const std::string& ffmpeg = "ffmpeg");
  ~VideoWriter();  // unfinished: stops ffmpeg and removes the file
  VideoWriter(const VideoWriter&) = delete;
  VideoWriter& operator=(const VideoWriter&) = delete;

  // Appends one frame; throws std::runtime_error if its size differs or ffmpeg has gone.
  void write(const envs::Image& frame);
  // Ends the stream and waits for ffmpeg; throws std::runtime_error if it failed.
  void finish();
  int frames() const { return frames_; }

 private:
  void stop_child();
  std::string path_;
  int width_, height_;
  pid_t child_ = -1;
  int pipe_ = -1;
  int frames_ = 0;
};

// Records the chosen episodes of one worker: renders the camera at the
// video size with its own renderer (only while an episode is recorded),
// draws the instruction and the step, streams to a VideoWriter. After the
// first episode, a frame allocates nothing.
class EpisodeRecorder {
 public:
  explicit EpisodeRecorder(VideoSettings settings);
  ~EpisodeRecorder();

  bool wants(const EpisodeSpec& spec) const;
  // Starts the episode's video if `spec` is chosen; the current state of `env`
  // is its first frame (step 0).
  void begin(const EpisodeSpec& spec, tasks::EpisodeEnv& env);
  // Appends the state after policy step `step` (no-op when not recording).
  void frame(tasks::EpisodeEnv& env, int step);
  // Finishes the video: kept (returns its path) unless only failures are kept
  // and the episode succeeded (returns ""). Never throws: a failed video is
  // reported on stderr and dropped.
  std::string end(const EpisodeResult& result);
  bool recording() const { return writer_ != nullptr; }

 private:
  void draw_caption(int step);
  VideoSettings settings_;
  std::unique_ptr<envs::Renderer> renderer_;
  const mjModel* renderer_model_ = nullptr;  // the model renderer_ was made for
  int camera_ = -1;
  envs::Image frame_;
  std::vector<std::string> caption_lines_;
  int max_steps_ = 0;
  std::string path_, part_path_;
  std::unique_ptr<VideoWriter> writer_;
};

}  // namespace harness
