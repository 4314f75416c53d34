// Dream-VLA image preprocessing: the LIBERO evaluation transforms (rotation,
// resize, center crop) and the Qwen2-VL image processor (smart resize, PIL
// bicubic, CLIP normalisation, temporal tiling, merge-window patch order).
// Free of libtorch: pixel values come out as a flat float buffer.
#pragma once

#include <array>
#include <nlohmann/json_fwd.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "envs/types.h"

namespace policies::dream_vla {

// Qwen2-VL image processor settings (preprocessor_config.json).
struct ImageProcessorConfig {
  int patch_size = 14;                  // px per patch side
  int temporal_patch_size = 2;          // frames per temporal patch (a still image is tiled)
  int merge_size = 2;                   // patches per merge-window side
  int64_t min_pixels = 3136;            // smart-resize lower bound on h*w, px
  int64_t max_pixels = 3211264;         // smart-resize upper bound on h*w, px
  double rescale_factor = 1.0 / 255.0;  // uint8 -> [0, 1]
  std::array<float, 3> image_mean = {0.48145466f, 0.4578275f, 0.40821073f};  // per RGB channel
  std::array<float, 3> image_std = {0.26862954f, 0.26130258f, 0.27577711f};  // per RGB channel
};

// Reads preprocessor_config.json (min/max_pixels from the top-level keys, else
// from "size"). Throws std::runtime_error naming the file and the problem.
ImageProcessorConfig load_image_processor_config(const std::string& path);
// preprocessor_config.json content for `config` (read back by the above).
nlohmann::json image_processor_config_json(const ImageProcessorConfig& config);

// Transforms applied to each camera image before the processor (spec 2.1).
struct EvalImageTransform {
  bool rotate_180 = false;  // reverse rows and columns (LIBERO cameras)
  int resize_to =
      0;  // if > 0: antialiased Lanczos-3 resize to resize_to^2 px (RLDS recipe, no JPEG)
  bool center_crop = false;  // crop the central crop_area fraction and resize back (bilinear)
  float crop_area = 0.9f;    // fraction of the image area kept by the center crop
};

// Processor output for a list of images, concatenated in order.
struct PixelValues {
  std::vector<float> data;                       // (rows, cols), row-major
  int64_t rows = 0;                              // patches over all images
  int64_t cols = 0;                              // 3 * temporal_patch_size * patch_size^2
  std::vector<std::array<int64_t, 3>> grid_thw;  // per image: (t, h, w) in patches
  std::vector<int64_t> tokens_per_image;         // merged tokens per image = t*h*w / merge^2
};

// Qwen2-VL smart resize: (height, width) rounded to multiples of `factor`
// with height*width in [min_pixels, max_pixels]. Throws for aspect ratio > 200.
std::pair<int, int> smart_resize(int height, int width, int factor, int64_t min_pixels,
                                 int64_t max_pixels);

// PIL Image.resize(..., BICUBIC) on uint8 RGB (antialiased when shrinking,
// 22-bit fixed-point coefficients, horizontal pass first). Same size: a copy.
envs::Image resize_bicubic(const envs::Image& image, int width, int height);

// tf.image.resize(..., "lanczos3", antialias=True) then round half to even
// and clip to uint8.
envs::Image resize_lanczos3(const envs::Image& image, int width, int height);

// img[::-1, ::-1].
envs::Image rotate_180(const envs::Image& image);

// tf.image.crop_and_resize of the box [y1, x1, y2, x2] (relative
// coordinates) to out_width x out_height, bilinear, then the TF float -> uint8
// rule (the training-time random crop).
envs::Image crop_and_resize(const envs::Image& image, float y1, float x1, float y2, float x2,
                            int out_width, int out_height);

// tf.image.crop_and_resize of the centered box with side sqrt(area_fraction)
// (relative), bilinear, back to the input size, then the TF float -> uint8 rule.
envs::Image center_crop(const envs::Image& image, float area_fraction);

// Applies `transform` in the order rotate, resize, crop.
envs::Image apply_eval_transform(const envs::Image& image, const EvalImageTransform& transform);

class ImageProcessor {
 public:
  explicit ImageProcessor(ImageProcessorConfig config = {});

  // Preprocesses `images` into `out`, reusing its storage. Throws
  // std::runtime_error for an image whose pixel buffer does not match its size.
  void process(std::span<const envs::Image> images, PixelValues& out) const;
  PixelValues process(std::span<const envs::Image> images) const;

  const ImageProcessorConfig& config() const { return config_; }

 private:
  ImageProcessorConfig config_;
  std::array<std::array<float, 256>, 3> normalized_;  // per channel: normalised value of each uint8
};

}  // namespace policies::dream_vla
