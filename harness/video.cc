#include "harness/video.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <stdexcept>

#include "harness/contact_sheet.h"
#include "harness/subprocess.h"

namespace harness {

VideoSettings parse_videos_option(const std::string& text) {
  VideoSettings settings;
  if (text == "failures") {
    settings.failures = true;
    return settings;
  }
  size_t used = 0;
  int count = -1;
  try {
    count = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || count < 0) {
    throw std::runtime_error(
        "--videos: expected a number of episodes per task or 'failures', got '" + text + "'");
  }
  settings.first_episodes = count;
  return settings;
}

namespace {

// Starts ffmpeg with its stdin (if `stdin_fd` >= 0) and stdout/stderr
// redirected; returns the child's pid. Throws naming the program.
pid_t spawn(const std::vector<std::string>& args, int stdin_fd, int stdout_fd) {
  try {
    return spawn_process(args, stdin_fd, stdout_fd, stdout_fd);
  } catch (const std::runtime_error& error) {
    throw std::runtime_error(std::string(error.what()) +
                             " (videos need the ffmpeg program: apt-get install ffmpeg)");
  }
}

}  // namespace

void check_ffmpeg(const std::string& ffmpeg) {
  // ffmpeg -encoders, output to a temporary file searched for libx264.
  char name[] = "/tmp/vla-ffmpeg-XXXXXX";
  const int fd = mkstemp(name);
  if (fd < 0)
    throw std::runtime_error(std::string("cannot create a temporary file: ") +
                             std::strerror(errno));
  std::string output;
  int status = -1;
  try {
    const int null_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    const pid_t pid = spawn({ffmpeg, "-hide_banner", "-encoders"}, null_in, fd);
    close(null_in);
    status = wait_process(pid);
    lseek(fd, 0, SEEK_SET);
    char buffer[4096];
    for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) output.append(buffer, size_t(n));
  } catch (...) {
    close(fd);
    unlink(name);
    throw;
  }
  close(fd);
  unlink(name);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("'" + ffmpeg + " -encoders' failed (videos need the ffmpeg program)");
  }
  if (output.find("libx264") == std::string::npos) {
    throw std::runtime_error("'" + ffmpeg + "' has no libx264 encoder (H.264 videos need it)");
  }
}

std::string video_path(const std::string& directory, const std::string& episode_id) {
  std::string name = episode_id;
  std::replace(name.begin(), name.end(), '/', '_');
  return (std::filesystem::path(directory) / (name + ".mp4")).string();
}

VideoWriter::VideoWriter(const std::string& path, int width, int height, double fps,
                         const std::string& ffmpeg)
    : path_(path), width_(width), height_(height) {
  if (width <= 0 || height <= 0 || width % 2 || height % 2) {
    throw std::runtime_error("video " + path + ": frames must have an even, positive size, got " +
                             std::to_string(width) + "x" + std::to_string(height));
  }
  if (!(fps > 0)) throw std::runtime_error("video " + path + ": frame rate must be positive");
  static std::once_flag ignore_sigpipe;
  std::call_once(ignore_sigpipe, [] { signal(SIGPIPE, SIG_IGN); });
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error("video " + path + ": cannot create a pipe: " + std::strerror(errno));
  }
  char size[32], rate[32];
  std::snprintf(size, sizeof(size), "%dx%d", width, height);
  std::snprintf(rate, sizeof(rate), "%g", fps);
  try {
    child_ = spawn(
        {ffmpeg,     "-hide_banner", "-loglevel",  "error",   "-nostdin", "-y",   "-f", "rawvideo",
         "-pix_fmt", "rgb24",        "-s",         size,      "-r",       rate,   "-i", "pipe:0",
         "-an",      "-c:v",         "libx264",    "-preset", "veryfast", "-crf", "23", "-pix_fmt",
         "yuv420p",  "-movflags",    "+faststart", "-f",      "mp4",      path},
        fds[0], -1);
  } catch (...) {
    close(fds[0]);
    close(fds[1]);
    throw;
  }
  close(fds[0]);
  pipe_ = fds[1];
}

VideoWriter::~VideoWriter() {
  if (child_ > 0) {
    stop_child();
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
}

void VideoWriter::stop_child() {
  if (pipe_ >= 0) close(pipe_), pipe_ = -1;
  if (child_ > 0) {
    kill(child_, SIGTERM);
    wait_process(child_);
    child_ = -1;
  }
}

void VideoWriter::write(const envs::Image& frame) {
  if (pipe_ < 0) throw std::runtime_error("video " + path_ + ": already finished");
  if (frame.width != width_ || frame.height != height_ ||
      frame.pixels.size() != size_t(width_) * height_ * 3) {
    throw std::runtime_error("video " + path_ + ": frame is " + std::to_string(frame.width) + "x" +
                             std::to_string(frame.height) + ", the video " +
                             std::to_string(width_) + "x" + std::to_string(height_));
  }
  const uint8_t* data = frame.pixels.data();
  size_t left = frame.pixels.size();
  while (left > 0) {
    const ssize_t n = ::write(pipe_, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw std::runtime_error("video " + path_ + ": ffmpeg stopped reading frames (" +
                               std::strerror(errno) + ")");
    }
    data += n;
    left -= size_t(n);
  }
  ++frames_;
}

void VideoWriter::finish() {
  if (child_ <= 0) return;
  close(pipe_);
  pipe_ = -1;
  const int status = wait_process(child_);
  child_ = -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
    throw std::runtime_error("video " + path_ + ": ffmpeg failed (exit status " +
                             std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
  }
}

EpisodeRecorder::EpisodeRecorder(VideoSettings settings) : settings_(std::move(settings)) {}

EpisodeRecorder::~EpisodeRecorder() = default;

bool EpisodeRecorder::wants(const EpisodeSpec& spec) const {
  return settings_.failures || spec.init_state < settings_.first_episodes;
}

void EpisodeRecorder::begin(const EpisodeSpec& spec, tasks::EpisodeEnv& env) {
  writer_.reset();
  if (!settings_.enabled() || !wants(spec)) return;
  try {
    envs::Env& sim = env.env();
    if (renderer_model_ != sim.model()) {
      // A new environment (task): a renderer for its model. The renderer only
      // sizes the model's offscreen buffer, which nothing else reads once GL
      // contexts exist.
      renderer_.reset();
      camera_ = sim.camera_id(settings_.camera);
      if (camera_ < 0)
        throw std::runtime_error("the scene has no camera '" + settings_.camera + "'");
      envs::RenderSettings render;
      render.width = render.height = settings_.size;
      render.backend = sim.settings().render.backend;
      renderer_ = std::make_unique<envs::Renderer>(const_cast<mjModel*>(sim.model()), render);
      renderer_model_ = sim.model();
    }
    // Instruction lines, worked out once per episode.
    const int max_chars = std::max(1, (settings_.size - 4) / (kTextGlyphWidth + 1));
    caption_lines_ = wrap_text(sim.observation().instruction, max_chars);
    max_steps_ = spec.task->protocol.max_steps;
    std::filesystem::create_directories(settings_.directory);
    path_ = video_path(settings_.directory, spec.episode_id);
    part_path_ = path_ + ".part";
    writer_ = std::make_unique<VideoWriter>(part_path_, settings_.size, settings_.size,
                                            std::max(1, spec.task->protocol.control_hz),
                                            settings_.ffmpeg);
    frame(env, 0);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "video of %s dropped: %s\n", spec.episode_id.c_str(), error.what());
    writer_.reset();
  }
}

void EpisodeRecorder::draw_caption(int step) {
  constexpr int kLine = kTextGlyphHeight + 3;  // px per text line
  const int lines = std::min<int>(int(caption_lines_.size()), 4);
  darken(&frame_, 0, 0, frame_.width, lines * kLine + 3);
  for (int i = 0; i < lines; ++i) draw_text(&frame_, 2, 2 + i * kLine, caption_lines_[i], 1);
  char text[48];
  std::snprintf(text, sizeof(text), "STEP %d/%d", step, max_steps_);
  darken(&frame_, 0, frame_.height - kLine - 2, text_width(text, 1) + 5, kLine + 2);
  draw_text(&frame_, 2, frame_.height - kLine, text, 1, {255, 230, 120});
}

void EpisodeRecorder::frame(tasks::EpisodeEnv& env, int step) {
  if (!writer_) return;
  try {
    envs::Env& sim = env.env();
    renderer_->render(sim.model(), sim.mutable_data(), camera_, &frame_);
    draw_caption(step);
    writer_->write(frame_);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "video %s dropped: %s\n", path_.c_str(), error.what());
    writer_.reset();
  }
}

std::string EpisodeRecorder::end(const EpisodeResult& result) {
  if (!writer_) return "";
  std::unique_ptr<VideoWriter> writer = std::move(writer_);
  try {
    writer->finish();
    // Failures mode keeps failed episodes (and the first N, if also asked for).
    const bool keep =
        !result.success || !settings_.failures || result.init_state < settings_.first_episodes;
    if (!keep) {
      std::filesystem::remove(part_path_);
      return "";
    }
    std::filesystem::rename(part_path_, path_);
    return path_;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "video %s dropped: %s\n", path_.c_str(), error.what());
    std::error_code ignored;
    std::filesystem::remove(part_path_, ignored);
    return "";
  }
}

}  // namespace harness
