#include "policies/dream_vla/image.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace policies::dream_vla {

namespace {

void check_image(const envs::Image& image, const char* what) {
  if (image.width <= 0 || image.height <= 0 ||
      image.pixels.size() !=
          static_cast<size_t>(image.width) * static_cast<size_t>(image.height) * 3) {
    throw std::runtime_error(std::string(what) + ": image of " + std::to_string(image.width) + "x" +
                             std::to_string(image.height) + " px holds " +
                             std::to_string(image.pixels.size()) +
                             " bytes, expected width*height*3");
  }
}

envs::Image blank_image(int width, int height) {
  envs::Image image;
  image.width = width;
  image.height = height;
  image.pixels.assign(static_cast<size_t>(width) * static_cast<size_t>(height) * 3, 0);
  return image;
}

// Pillow's bicubic kernel (a = -0.5), support 2.
double bicubic_kernel(double x) {
  constexpr double a = -0.5;
  x = std::abs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// Pillow's per-output-pixel source span and 22-bit fixed-point weights.
constexpr int kPrecisionBits = 32 - 8 - 2;

struct FixedPointSpans {
  int kernel_size = 0;
  std::vector<int> first;    // first source index per output pixel
  std::vector<int> count;    // source pixels used per output pixel
  std::vector<int> weights;  // (output, kernel_size)
};

FixedPointSpans pillow_spans(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = 2.0 * filter_scale;
  FixedPointSpans spans;
  spans.kernel_size = static_cast<int>(std::ceil(support)) * 2 + 1;
  spans.first.resize(out_size);
  spans.count.resize(out_size);
  spans.weights.assign(static_cast<size_t>(out_size) * spans.kernel_size, 0);
  std::vector<double> weights(spans.kernel_size);
  for (int out = 0; out < out_size; ++out) {
    const double center = (out + 0.5) * scale;
    const int first = std::max(static_cast<int>(center - support + 0.5), 0);
    const int last = std::min(static_cast<int>(center + support + 0.5), in_size);
    const int count = last - first;
    double total = 0.0;
    for (int k = 0; k < count; ++k) {
      weights[k] = bicubic_kernel((k + first - center + 0.5) / filter_scale);
      total += weights[k];
    }
    for (int k = 0; k < count; ++k) {
      const double weight = total != 0.0 ? weights[k] / total : weights[k];
      const double fixed = weight * (1 << kPrecisionBits);
      spans.weights[static_cast<size_t>(out) * spans.kernel_size + k] =
          static_cast<int>(weight < 0 ? -0.5 + fixed : 0.5 + fixed);
    }
    spans.first[out] = first;
    spans.count[out] = count;
  }
  return spans;
}

uint8_t clip8(int64_t accumulator) {
  const int64_t value = accumulator >> kPrecisionBits;
  return static_cast<uint8_t>(std::clamp<int64_t>(value, 0, 255));
}

// TF's Lanczos-3 kernel.
float lanczos3_kernel(float x) {
  constexpr float kPi = 3.14159265359f;
  constexpr float radius = 3.0f;
  x = std::abs(x);
  if (x > radius) return 0.0f;
  if (x <= 1e-3f) return 1.0f;
  return radius * std::sin(kPi * x) * std::sin(kPi * x / radius) / (kPi * kPi * x * x);
}

struct FloatSpans {
  int span_size = 0;
  std::vector<int> starts;     // per output pixel
  std::vector<float> weights;  // (output, span_size), zero past each span
};

// tensorflow ScaleAndTranslate spans (translation 0, antialias on).
FloatSpans tf_spans(int in_size, int out_size) {
  const float scale = static_cast<float>(out_size) / static_cast<float>(in_size);
  const float inv_scale = static_cast<float>(1.0 / scale);
  const float kernel_scale = std::max(inv_scale, 1.0f);
  const float radius = 3.0f;
  FloatSpans spans;
  spans.span_size = std::min(2 * static_cast<int>(std::ceil(radius * kernel_scale)) + 1, in_size);
  spans.starts.assign(out_size, 0);
  spans.weights.assign(static_cast<size_t>(out_size) * spans.span_size, 0.0f);
  std::vector<float> weights;
  for (int x = 0; x < out_size; ++x) {
    const float sample = (static_cast<float>(x) + 0.5f) * inv_scale;
    if (sample < 0 || sample > static_cast<float>(in_size)) continue;
    int64_t start = static_cast<int64_t>(std::ceil(sample - radius * kernel_scale - 0.5f));
    int64_t end = static_cast<int64_t>(std::floor(sample + radius * kernel_scale - 0.5f));
    start = std::clamp<int64_t>(start, 0, in_size - 1);
    end = std::clamp<int64_t>(end, 0, in_size - 1) + 1;
    float total = 0.0f;
    weights.clear();
    for (int64_t source = start; source < end; ++source) {
      const float position = static_cast<float>(source) + 0.5f - sample;
      const float weight = lanczos3_kernel(std::abs(position / kernel_scale));
      total += weight;
      weights.push_back(weight);
    }
    if (std::abs(total) >= 1000.0f * std::numeric_limits<float>::min()) {
      const float inverse_total = 1.0f / total;
      for (size_t k = 0; k < weights.size(); ++k) {
        spans.weights[static_cast<size_t>(x) * spans.span_size + k] = weights[k] * inverse_total;
      }
    }
    spans.starts[x] = static_cast<int>(start);
  }
  return spans;
}

}  // namespace

std::pair<int, int> smart_resize(int height, int width, int factor, int64_t min_pixels,
                                 int64_t max_pixels) {
  if (height <= 0 || width <= 0)
    throw std::runtime_error("smart_resize: image size must be positive");
  double h = height, w = width;
  // Tiny images: short side to `factor`, long side scaled to keep the ratio.
  if (height < factor || width < factor) {
    if (h < w) {
      w = std::nearbyint(w / h * factor);
      h = factor;
    } else {
      h = std::nearbyint(h / w * factor);
      w = factor;
    }
  } else if (std::max(h, w) / std::min(h, w) > 200) {
    throw std::runtime_error("smart_resize: aspect ratio of " + std::to_string(width) + "x" +
                             std::to_string(height) + " exceeds 200");
  }
  // nearbyint rounds half to even like Python's round.
  double resized_h = std::nearbyint(h / factor) * factor;
  double resized_w = std::nearbyint(w / factor) * factor;
  if (resized_h * resized_w > static_cast<double>(max_pixels)) {
    const double beta = std::sqrt(h * w / static_cast<double>(max_pixels));
    resized_h = std::max<double>(factor, std::floor(h / beta / factor) * factor);
    resized_w = std::max<double>(factor, std::floor(w / beta / factor) * factor);
  } else if (resized_h * resized_w < static_cast<double>(min_pixels)) {
    const double beta = std::sqrt(static_cast<double>(min_pixels) / (h * w));
    resized_h = std::ceil(h * beta / factor) * factor;
    resized_w = std::ceil(w * beta / factor) * factor;
  }
  return {static_cast<int>(resized_h), static_cast<int>(resized_w)};
}

envs::Image resize_bicubic(const envs::Image& image, int width, int height) {
  check_image(image, "resize_bicubic");
  if (width <= 0 || height <= 0)
    throw std::runtime_error("resize_bicubic: target size must be positive");
  envs::Image current = image;
  // Horizontal pass (uint8 intermediate, as in Pillow).
  if (width != image.width) {
    const FixedPointSpans spans = pillow_spans(image.width, width);
    envs::Image out = blank_image(width, image.height);
    for (int y = 0; y < image.height; ++y) {
      const uint8_t* row = &current.pixels[static_cast<size_t>(y) * image.width * 3];
      for (int x = 0; x < width; ++x) {
        const int* weights = &spans.weights[static_cast<size_t>(x) * spans.kernel_size];
        for (int c = 0; c < 3; ++c) {
          int64_t accumulator = 1 << (kPrecisionBits - 1);
          for (int k = 0; k < spans.count[x]; ++k) {
            accumulator += static_cast<int64_t>(row[(spans.first[x] + k) * 3 + c]) * weights[k];
          }
          out.pixels[(static_cast<size_t>(y) * width + x) * 3 + c] = clip8(accumulator);
        }
      }
    }
    current = std::move(out);
  }
  // Vertical pass.
  if (height != image.height) {
    const FixedPointSpans spans = pillow_spans(image.height, height);
    envs::Image out = blank_image(current.width, height);
    const size_t row_bytes = static_cast<size_t>(current.width) * 3;
    for (int y = 0; y < height; ++y) {
      const int* weights = &spans.weights[static_cast<size_t>(y) * spans.kernel_size];
      for (size_t i = 0; i < row_bytes; ++i) {
        int64_t accumulator = 1 << (kPrecisionBits - 1);
        for (int k = 0; k < spans.count[y]; ++k) {
          accumulator +=
              static_cast<int64_t>(current.pixels[(spans.first[y] + k) * row_bytes + i]) *
              weights[k];
        }
        out.pixels[y * row_bytes + i] = clip8(accumulator);
      }
    }
    current = std::move(out);
  }
  return current;
}

envs::Image resize_lanczos3(const envs::Image& image, int width, int height) {
  check_image(image, "resize_lanczos3");
  if (width <= 0 || height <= 0)
    throw std::runtime_error("resize_lanczos3: target size must be positive");
  const FloatSpans columns = tf_spans(image.width, width);
  const FloatSpans rows = tf_spans(image.height, height);
  // Columns first into a float (input height, output width) buffer, then rows.
  std::vector<float> intermediate(static_cast<size_t>(image.height) * width * 3, 0.0f);
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < width; ++x) {
      const int span =
          std::min(columns.starts[x] + columns.span_size, image.width) - columns.starts[x];
      const float* weights = &columns.weights[static_cast<size_t>(x) * columns.span_size];
      float* out = &intermediate[(static_cast<size_t>(y) * width + x) * 3];
      for (int k = 0; k < span; ++k) {
        const uint8_t* in =
            &image.pixels[(static_cast<size_t>(y) * image.width + columns.starts[x] + k) * 3];
        for (int c = 0; c < 3; ++c) out[c] += weights[k] * static_cast<float>(in[c]);
      }
    }
  }
  envs::Image result = blank_image(width, height);
  const size_t row_values = static_cast<size_t>(width) * 3;
  std::vector<float> row(row_values);
  for (int y = 0; y < height; ++y) {
    std::fill(row.begin(), row.end(), 0.0f);
    const int span = std::min(rows.starts[y] + rows.span_size, image.height) - rows.starts[y];
    const float* weights = &rows.weights[static_cast<size_t>(y) * rows.span_size];
    for (int k = 0; k < span; ++k) {
      const float* in = &intermediate[(rows.starts[y] + k) * row_values];
      for (size_t i = 0; i < row_values; ++i) row[i] += in[i] * weights[k];
    }
    for (size_t i = 0; i < row_values; ++i) {
      result.pixels[y * row_values + i] =
          static_cast<uint8_t>(std::clamp(std::nearbyint(row[i]), 0.0f, 255.0f));
    }
  }
  return result;
}

envs::Image rotate_180(const envs::Image& image) {
  check_image(image, "rotate_180");
  envs::Image out = blank_image(image.width, image.height);
  const size_t pixels = static_cast<size_t>(image.width) * image.height;
  for (size_t i = 0; i < pixels; ++i) {
    const size_t source = pixels - 1 - i;
    for (int c = 0; c < 3; ++c) out.pixels[i * 3 + c] = image.pixels[source * 3 + c];
  }
  return out;
}

envs::Image crop_and_resize(const envs::Image& image, float y1, float x1, float y2, float x2,
                            int out_width, int out_height) {
  check_image(image, "crop_and_resize");
  if (out_width < 1 || out_height < 1) throw std::runtime_error("crop_and_resize: empty output");
  const int height = image.height, width = image.width;
  const float height_scale =
      out_height > 1 ? (y2 - y1) * static_cast<float>(height - 1) / static_cast<float>(out_height - 1)
                     : 0.0f;
  const float width_scale =
      out_width > 1 ? (x2 - x1) * static_cast<float>(width - 1) / static_cast<float>(out_width - 1)
                    : 0.0f;
  constexpr float kToUnit = static_cast<float>(1.0 / 255.0);
  auto value = [&](int y, int x, int c) {
    return static_cast<float>(image.pixels[(static_cast<size_t>(y) * width + x) * 3 + c]) * kToUnit;
  };
  envs::Image out = blank_image(out_width, out_height);
  for (int y = 0; y < out_height; ++y) {
    const float in_y =
        out_height > 1 ? y1 * static_cast<float>(height - 1) + static_cast<float>(y) * height_scale
                       : 0.5f * (y1 + y2) * static_cast<float>(height - 1);
    const bool y_outside = in_y < 0 || in_y > static_cast<float>(height - 1);
    const int top = static_cast<int>(std::floor(in_y));
    const int bottom = static_cast<int>(std::ceil(in_y));
    const float y_lerp = in_y - static_cast<float>(top);
    for (int x = 0; x < out_width; ++x) {
      const float in_x =
          out_width > 1 ? x1 * static_cast<float>(width - 1) + static_cast<float>(x) * width_scale
                        : 0.5f * (x1 + x2) * static_cast<float>(width - 1);
      const bool outside = y_outside || in_x < 0 || in_x > static_cast<float>(width - 1);
      const int left = static_cast<int>(std::floor(in_x));
      const int right = static_cast<int>(std::ceil(in_x));
      const float x_lerp = in_x - static_cast<float>(left);
      for (int c = 0; c < 3; ++c) {
        float result = 0.0f;  // extrapolation value
        if (!outside) {
          const float top_value =
              value(top, left, c) + (value(top, right, c) - value(top, left, c)) * x_lerp;
          const float bottom_value =
              value(bottom, left, c) + (value(bottom, right, c) - value(bottom, left, c)) * x_lerp;
          result = top_value + (bottom_value - top_value) * y_lerp;
        }
        // Clip to [0, 1], then TF's float -> uint8: saturate(x * 255.5), truncating.
        const float scaled = std::clamp(result, 0.0f, 1.0f) * 255.5f;
        out.pixels[(static_cast<size_t>(y) * out_width + x) * 3 + c] =
            static_cast<uint8_t>(std::min(scaled, 255.0f));
      }
    }
  }
  return out;
}

envs::Image center_crop(const envs::Image& image, float area_fraction) {
  check_image(image, "center_crop");
  if (!(area_fraction > 0.0f && area_fraction <= 1.0f)) {
    throw std::runtime_error("center_crop: area fraction " + std::to_string(area_fraction) +
                             " is not in (0, 1]");
  }
  // Box [y1, x1, y2, x2] in relative coordinates, float32 as in TF.
  const float side = std::clamp(std::sqrt(area_fraction), 0.0f, 1.0f);
  const float offset = (1.0f - side) / 2.0f;
  return crop_and_resize(image, offset, offset, offset + side, offset + side, image.width,
                         image.height);
}

envs::Image apply_eval_transform(const envs::Image& image, const EvalImageTransform& transform) {
  envs::Image current = transform.rotate_180 ? rotate_180(image) : image;
  if (transform.resize_to > 0 &&
      (current.width != transform.resize_to || current.height != transform.resize_to)) {
    current = resize_lanczos3(current, transform.resize_to, transform.resize_to);
  }
  if (transform.center_crop) current = center_crop(current, transform.crop_area);
  return current;
}

nlohmann::json image_processor_config_json(const ImageProcessorConfig& config) {
  return {{"min_pixels", config.min_pixels},
          {"max_pixels", config.max_pixels},
          {"patch_size", config.patch_size},
          {"temporal_patch_size", config.temporal_patch_size},
          {"merge_size", config.merge_size},
          {"image_mean", config.image_mean},
          {"image_std", config.image_std},
          {"do_rescale", true},
          {"rescale_factor", config.rescale_factor}};
}

ImageProcessorConfig load_image_processor_config(const std::string& path) {
  std::ifstream stream(path);
  if (!stream) throw std::runtime_error("preprocessor config " + path + ": cannot open");
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(stream);
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error("preprocessor config " + path + ": not valid JSON: " + error.what());
  }
  if (!json.is_object())
    throw std::runtime_error("preprocessor config " + path + ": not a JSON object");
  ImageProcessorConfig config;
  auto fail = [&](const std::string& problem) {
    return std::runtime_error("preprocessor config " + path + ": " + problem);
  };
  auto read_int = [&](const nlohmann::json& object, const char* key, auto& target) {
    if (!object.contains(key) || object[key].is_null()) return false;
    if (!object[key].is_number_integer() || object[key].get<int64_t>() <= 0) {
      throw fail(std::string("\"") + key + "\" must be a positive integer");
    }
    target = object[key].get<std::remove_reference_t<decltype(target)>>();
    return true;
  };
  read_int(json, "patch_size", config.patch_size);
  read_int(json, "temporal_patch_size", config.temporal_patch_size);
  read_int(json, "merge_size", config.merge_size);
  // The processor's min/max_pixels attributes win over the "size" dict.
  const nlohmann::json size =
      json.contains("size") && json["size"].is_object() ? json["size"] : nlohmann::json::object();
  if (!read_int(json, "min_pixels", config.min_pixels) &&
      !read_int(size, "min_pixels", config.min_pixels)) {
    read_int(size, "shortest_edge", config.min_pixels);
  }
  if (!read_int(json, "max_pixels", config.max_pixels) &&
      !read_int(size, "max_pixels", config.max_pixels)) {
    read_int(size, "longest_edge", config.max_pixels);
  }
  if (config.min_pixels > config.max_pixels) throw fail("min_pixels exceeds max_pixels");
  if (json.contains("rescale_factor")) {
    if (!json["rescale_factor"].is_number()) throw fail("\"rescale_factor\" must be a number");
    config.rescale_factor = json["rescale_factor"].get<double>();
  }
  for (const auto& [key, target] :
       {std::pair{"image_mean", &config.image_mean}, std::pair{"image_std", &config.image_std}}) {
    if (!json.contains(key)) continue;
    const nlohmann::json& values = json[key];
    if (!values.is_array() || values.size() != 3 ||
        !std::all_of(values.begin(), values.end(), [](const auto& v) { return v.is_number(); })) {
      throw fail(std::string("\"") + key + "\" must be an array of 3 numbers");
    }
    for (int c = 0; c < 3; ++c) (*target)[c] = values[c].get<float>();
  }
  for (const char* flag : {"do_resize", "do_rescale", "do_normalize"}) {
    if (json.contains(flag) && json[flag] == false)
      throw fail(std::string(flag) + "=false is not supported");
  }
  if (json.contains("resample") && json["resample"] != 3)
    throw fail("only resample=3 (bicubic) is supported");
  return config;
}

ImageProcessor::ImageProcessor(ImageProcessorConfig config) : config_(config) {
  if (config_.patch_size <= 0 || config_.temporal_patch_size <= 0 || config_.merge_size <= 0) {
    throw std::runtime_error(
        "ImageProcessor: patch, temporal patch and merge sizes must be positive");
  }
  for (int c = 0; c < 3; ++c) {
    if (config_.image_std[c] == 0.0f)
      throw std::runtime_error("ImageProcessor: image_std must be non-zero");
    // Rescale in float64 then store float32; normalise in float32 (transformers order).
    for (int v = 0; v < 256; ++v) {
      const float unit = static_cast<float>(static_cast<double>(v) * config_.rescale_factor);
      normalized_[c][v] = (unit - config_.image_mean[c]) / config_.image_std[c];
    }
  }
}

PixelValues ImageProcessor::process(std::span<const envs::Image> images) const {
  PixelValues out;
  process(images, out);
  return out;
}

void ImageProcessor::process(std::span<const envs::Image> images, PixelValues& out) const {
  const int patch = config_.patch_size;
  const int frames = config_.temporal_patch_size;
  const int merge = config_.merge_size;
  const int factor = patch * merge;
  out.cols = 3LL * frames * patch * patch;
  out.grid_thw.clear();
  out.tokens_per_image.clear();

  // Sizes first, so the buffer is sized once.
  std::vector<std::pair<int, int>> sizes;
  sizes.reserve(images.size());
  int64_t total_rows = 0;
  for (const envs::Image& image : images) {
    check_image(image, "ImageProcessor");
    const auto [height, width] =
        smart_resize(image.height, image.width, factor, config_.min_pixels, config_.max_pixels);
    sizes.emplace_back(height, width);
    const int64_t grid_h = height / patch, grid_w = width / patch;
    out.grid_thw.push_back({1, grid_h, grid_w});
    out.tokens_per_image.push_back(grid_h * grid_w / (merge * merge));
    total_rows += grid_h * grid_w;
  }
  out.rows = total_rows;
  out.data.resize(static_cast<size_t>(out.rows * out.cols));

  float* row_out = out.data.data();
  const size_t plane = static_cast<size_t>(patch) * patch;
  for (size_t index = 0; index < images.size(); ++index) {
    const auto [height, width] = sizes[index];
    envs::Image resized;
    const envs::Image* source = &images[index];
    if (height != source->height || width != source->width) {
      resized = resize_bicubic(*source, width, height);
      source = &resized;
    }
    const int grid_h = height / patch, grid_w = width / patch;
    // Rows in merge-window order (bh, bw, ih, iw); columns (c, tt, y, x).
    for (int bh = 0; bh < grid_h / merge; ++bh) {
      for (int bw = 0; bw < grid_w / merge; ++bw) {
        for (int ih = 0; ih < merge; ++ih) {
          for (int iw = 0; iw < merge; ++iw) {
            const int py = bh * merge + ih, px = bw * merge + iw;
            for (int c = 0; c < 3; ++c) {
              float* first_frame = row_out + static_cast<size_t>(c) * frames * plane;
              for (int y = 0; y < patch; ++y) {
                const uint8_t* pixel =
                    &source->pixels[(static_cast<size_t>(py * patch + y) * width + px * patch) * 3 +
                                    c];
                for (int x = 0; x < patch; ++x)
                  first_frame[y * patch + x] = normalized_[c][pixel[x * 3]];
              }
              // A still image repeats over the temporal patch.
              for (int tt = 1; tt < frames; ++tt)
                std::copy(first_frame, first_frame + plane, first_frame + tt * plane);
            }
            row_out += out.cols;
          }
        }
      }
    }
  }
}

}  // namespace policies::dream_vla
