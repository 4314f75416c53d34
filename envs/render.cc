#include "envs/render.h"

#include <dlfcn.h>
#include <png.h>

#include <GL/osmesa.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace envs {

GlBackend parse_gl_backend(const std::string& name) {
  if (name == "osmesa") return GlBackend::kOsMesa;
  if (name == "egl") return GlBackend::kEgl;
  throw std::runtime_error("unknown GL backend '" + name + "' (valid: osmesa, egl)");
}

namespace {

// Software rendering through Mesa's OSMesa (llvmpipe).
class OsMesaContext : public GlContext {
 public:
  OsMesaContext(int width, int height)
      : width_(width), height_(height), buffer_(size_t(width) * height * 4) {
    context_ = OSMesaCreateContextExt(OSMESA_RGBA, 24, 8, 0, nullptr);
    if (!context_) throw std::runtime_error("OSMesa: could not create a GL context");
    make_current();
  }
  ~OsMesaContext() override { OSMesaDestroyContext(context_); }
  void make_current() override {
    if (!OSMesaMakeCurrent(context_, buffer_.data(), GL_UNSIGNED_BYTE, width_, height_)) {
      throw std::runtime_error("OSMesa: could not make the GL context current");
    }
  }

 private:
  int width_, height_;
  std::vector<uint8_t> buffer_;
  OSMesaContext context_ = nullptr;
};

// GPU rendering through EGL on a device display, without a surface; libEGL is
// loaded at run time so that machines without it still run the OSMesa path.
class EglContext : public GlContext {
 public:
  EglContext() {
    library_ = dlopen("libEGL.so.1", RTLD_NOW | RTLD_GLOBAL);
    if (!library_) throw std::runtime_error(std::string("EGL: cannot load libEGL.so.1: ") + dlerror());
    auto get_proc = reinterpret_cast<void* (*)(const char*)>(dlsym(library_, "eglGetProcAddress"));
    if (!get_proc) throw std::runtime_error("EGL: libEGL.so.1 has no eglGetProcAddress");
    auto load = [&](const char* name) {
      void* f = dlsym(library_, name);
      if (!f) f = get_proc(name);
      if (!f) throw std::runtime_error(std::string("EGL: missing function ") + name);
      return f;
    };
    using Display = void*;
    auto query_devices = reinterpret_cast<unsigned (*)(int, void**, int*)>(load("eglQueryDevicesEXT"));
    auto platform_display =
        reinterpret_cast<Display (*)(unsigned, void*, const int*)>(load("eglGetPlatformDisplayEXT"));
    auto initialize = reinterpret_cast<unsigned (*)(Display, int*, int*)>(load("eglInitialize"));
    auto choose_config = reinterpret_cast<unsigned (*)(Display, const int*, void**, int, int*)>(
        load("eglChooseConfig"));
    auto bind_api = reinterpret_cast<unsigned (*)(unsigned)>(load("eglBindAPI"));
    auto create_context =
        reinterpret_cast<void* (*)(Display, void*, void*, const int*)>(load("eglCreateContext"));
    make_current_ = reinterpret_cast<unsigned (*)(Display, void*, void*, void*)>(load("eglMakeCurrent"));
    destroy_context_ = reinterpret_cast<unsigned (*)(Display, void*)>(load("eglDestroyContext"));

    constexpr unsigned kPlatformDevice = 0x313F, kOpenGlApi = 0x30A2;
    void* devices[8];
    int device_count = 0;
    if (!query_devices(8, devices, &device_count) || device_count == 0) {
      throw std::runtime_error("EGL: no device found (is a GPU driver installed?)");
    }
    display_ = platform_display(kPlatformDevice, devices[0], nullptr);
    int major = 0, minor = 0;
    if (!display_ || !initialize(display_, &major, &minor)) {
      throw std::runtime_error("EGL: could not initialise the device display");
    }
    const int config_attributes[] = {0x3033, 0x0001,  // surface type: pbuffer
                                     0x3040, 0x0008,  // renderable type: OpenGL
                                     0x3024, 8, 0x3023, 8, 0x3022, 8, 0x3021, 8,
                                     0x3025, 24, 0x3038};
    void* config = nullptr;
    int config_count = 0;
    if (!choose_config(display_, config_attributes, &config, 1, &config_count) || !config_count) {
      throw std::runtime_error("EGL: no suitable framebuffer configuration");
    }
    bind_api(kOpenGlApi);
    const int context_attributes[] = {0x3038};
    context_ = create_context(display_, config, nullptr, context_attributes);
    if (!context_) throw std::runtime_error("EGL: could not create an OpenGL context");
    make_current();
  }
  ~EglContext() override {
    if (context_) destroy_context_(display_, context_);
  }
  void make_current() override {
    if (!make_current_(display_, nullptr, nullptr, context_)) {
      throw std::runtime_error("EGL: could not make the context current");
    }
  }

 private:
  void* library_ = nullptr;
  void* display_ = nullptr;
  void* context_ = nullptr;
  unsigned (*make_current_)(void*, void*, void*, void*) = nullptr;
  unsigned (*destroy_context_)(void*, void*) = nullptr;
};

}  // namespace

std::unique_ptr<GlContext> GlContext::create(GlBackend backend, int width, int height) {
  if (backend == GlBackend::kEgl) return std::make_unique<EglContext>();
  return std::make_unique<OsMesaContext>(width, height);
}

Renderer::Renderer(mjModel* model, const RenderSettings& settings) : settings_(settings) {
  if (settings.width <= 0 || settings.height <= 0 || settings.width > 4096 || settings.height > 4096) {
    throw std::runtime_error("render size must be within 1..4096 px, got " +
                             std::to_string(settings.width) + "x" + std::to_string(settings.height));
  }
  if (settings.slices < 3 || settings.stacks < 2 || settings.quads < 1) {
    throw std::runtime_error("render tessellation needs slices >= 3, stacks >= 2, quads >= 1");
  }
  model->vis.global.offwidth = settings.width;
  model->vis.global.offheight = settings.height;
  model->vis.quality.offsamples = settings.multisamples;
  model->vis.quality.numslices = settings.slices;
  model->vis.quality.numstacks = settings.stacks;
  model->vis.quality.numquads = settings.quads;
  context_ = GlContext::create(settings.backend, settings.width, settings.height);
  view_ = std::make_unique<OffscreenView>(model, settings);
  flipped_.resize(size_t(settings.width) * settings.height * 3);
}

// view_ frees its GL objects before context_ goes (members die in reverse order).
Renderer::~Renderer() = default;

OffscreenView::OffscreenView(const mjModel* model, const RenderSettings& settings) {
  mjv_defaultScene(&scene_);
  mjv_defaultCamera(&camera_);
  mjv_defaultOption(&option_);
  mjr_defaultContext(&gpu_context_);
  mjv_makeScene(model, &scene_, 2000);
  mjr_makeContext(model, &gpu_context_, mjFONTSCALE_100);
  mjr_setBuffer(mjFB_OFFSCREEN, &gpu_context_);
  // Collision geometry (group 3) stays hidden; visuals are groups 0-2.
  for (int g = 3; g < mjNGROUP; ++g) option_.geomgroup[g] = 0;
  scene_.flags[mjRND_SHADOW] = settings.shadows;
  scene_.flags[mjRND_REFLECTION] = settings.reflections;
  camera_.type = mjCAMERA_FIXED;
}

OffscreenView::~OffscreenView() {
  mjr_freeContext(&gpu_context_);
  mjv_freeScene(&scene_);
}

void OffscreenView::render(const mjModel* model, mjData* data, int camera_id, int width,
                           int height, uint8_t* rgb) {
  camera_.fixedcamid = camera_id;
  mjv_updateScene(model, data, &option_, nullptr, &camera_, mjCAT_ALL, &scene_);
  const mjrRect viewport = {0, 0, width, height};
  mjr_render(viewport, &scene_, &gpu_context_);
  mjr_readPixels(rgb, nullptr, viewport, &gpu_context_);
}

void Renderer::render(const mjModel* model, mjData* data, int camera_id, Image* out) {
  const int width = settings_.width, height = settings_.height;
  if (out->width != width || out->height != height) {
    out->width = width;
    out->height = height;
    out->pixels.resize(size_t(width) * height * 3);
  }
  context_->make_current();
  view_->render(model, data, camera_id, width, height, flipped_.data());
  // OpenGL rows run bottom-up; images are top row first.
  const size_t row = size_t(width) * 3;
  for (int y = 0; y < height; ++y) {
    std::memcpy(out->pixels.data() + size_t(y) * row, flipped_.data() + size_t(height - 1 - y) * row,
                row);
  }
}

void write_png(const std::string& path, const Image& image) {
  FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    std::fclose(file);
    throw std::runtime_error("cannot encode PNG " + path);
  }
  png_init_io(png, file);
  png_set_IHDR(png, info, image.width, image.height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < image.height; ++y) {
    png_write_row(png, image.pixels.data() + size_t(y) * image.width * 3);
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  if (std::fclose(file) != 0) throw std::runtime_error("cannot write " + path);
}

}  // namespace envs
