// Offscreen rendering of MuJoCo cameras: OSMesa (software) or EGL (GPU), one
// GL context per thread.
#pragma once

#include <memory>
#include <string>

#include <mujoco/mujoco.h>

#include "envs/types.h"

namespace envs {

enum class GlBackend { kOsMesa, kEgl };

// Parses "osmesa" / "egl"; throws std::runtime_error naming the valid values.
GlBackend parse_gl_backend(const std::string& name);

struct RenderSettings {
  int width = 224;                       // px
  int height = 224;                      // px
  bool shadows = false;                  // ~5x slower in software rendering
  bool reflections = false;              // mirror-like materials
  int multisamples = 0;                  // offscreen MSAA samples (vis.quality.offsamples)
  // Tessellation of primitive geoms (vis.quality.numslices / numstacks /
  // numquads; MuJoCo's defaults 28 / 16 / 4). Software rendering pays per
  // vertex: 16 / 8 / 1 took render + readback of a LIBERO scene at 224 px from
  // ~7.5 to ~5 ms per camera (`vla-harness bench`).
  int slices = 16;
  int stacks = 8;
  int quads = 1;
  GlBackend backend = GlBackend::kOsMesa;
};

// An OpenGL context owned by one thread. Create it on the thread that renders.
class GlContext {
 public:
  virtual ~GlContext() = default;
  virtual void make_current() = 0;
  static std::unique_ptr<GlContext> create(GlBackend backend, int width, int height);
};

// MuJoCo's visualisation state for offscreen views of one model, set up the
// same way wherever this project renders (the harness's Renderer and the bare
// baseline of `vla-harness bench`): a scene for the model, a fixed camera,
// default options with collision geoms (group 3 and up) hidden, shadows and
// reflections from the settings, and the model's offscreen buffer bound. The
// thread's GL context must be current for every call.
class OffscreenView {
 public:
  OffscreenView(const mjModel* model, const RenderSettings& settings);
  ~OffscreenView();
  OffscreenView(const OffscreenView&) = delete;
  OffscreenView& operator=(const OffscreenView&) = delete;

  // Renders camera `camera_id` of `data` into a width x height viewport and
  // reads it back into `rgb` (width * height * 3 bytes, bottom row first, as
  // OpenGL returns it). Allocates nothing.
  void render(const mjModel* model, mjData* data, int camera_id, int width, int height,
              uint8_t* rgb);

 private:
  mjvScene scene_;
  mjvCamera camera_;
  mjvOption option_;
  mjrContext gpu_context_;
};

// Renders cameras of one model into preallocated images. Not thread-safe:
// one Renderer per worker thread. render() allocates nothing once `out` has
// the right size.
class Renderer {
 public:
  // Sets the model's offscreen buffer size and multisampling to the settings
  // (the buffer is sized to the camera), then creates the GL context.
  Renderer(mjModel* model, const RenderSettings& settings);
  ~Renderer();
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  // Renders camera `camera_id` of the current state of `data` (forward kinematics
  // must be up to date) into `out` (resized to width x height on first use).
  void render(const mjModel* model, mjData* data, int camera_id, Image* out);

  const RenderSettings& settings() const { return settings_; }

 private:
  RenderSettings settings_;
  std::unique_ptr<GlContext> context_;
  std::unique_ptr<OffscreenView> view_;  // after context_: freed while it is alive
  std::vector<uint8_t> flipped_;  // bottom-up rows from glReadPixels
};

// Writes an RGB image as PNG; throws std::runtime_error naming the path on failure.
void write_png(const std::string& path, const Image& image);

}  // namespace envs
