// Image preprocessing parity: Qwen2-VL processor against the dream_tiny
// fixture, bicubic resize against Pillow, and the LIBERO eval transforms.
#include "policies/dream_vla/image.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "policies/dream_vla/safetensors.h"

namespace fs = std::filesystem;
using namespace policies::dream_vla;

namespace {

const std::string kDataDir = VLA_TEST_DATA_DIR;

envs::Image image_from(const TensorView& view) {
  REQUIRE(view.dtype == DType::U8);
  REQUIRE(view.shape.size() == 3);
  REQUIRE(view.shape[2] == 3);
  envs::Image image;
  image.height = static_cast<int>(view.shape[0]);
  image.width = static_cast<int>(view.shape[1]);
  image.pixels.assign(view.data, view.data + view.nbytes);
  return image;
}

envs::Image random_image(int width, int height, uint32_t seed) {
  std::mt19937 rng(seed);
  envs::Image image;
  image.width = width;
  image.height = height;
  image.pixels.resize(static_cast<size_t>(width) * height * 3);
  for (auto& value : image.pixels) value = static_cast<uint8_t>(rng() & 0xFF);
  return image;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double diff = 0;
  for (size_t i = 0; i < a.size(); ++i)
    diff = std::max(diff, std::abs(static_cast<double>(a[i]) - b[i]));
  return diff;
}

}  // namespace

TEST_CASE("image: processor matches the fixture pixel_values and image_grid_thw") {
  const auto fixture = SafetensorsFile::open(kDataDir + "/dream_tiny/vision.safetensors");
  ImageProcessorConfig config;
  config.min_pixels = 3136;  // vision.json
  config.max_pixels = 12544;
  const ImageProcessor processor(config);
  const std::vector<envs::Image> images = {image_from(*fixture->find("image0")),
                                           image_from(*fixture->find("image1"))};
  const PixelValues pixels = processor.process(images);

  CHECK(pixels.rows == 64);
  CHECK(pixels.cols == 1176);
  const std::vector<int64_t> grid = read_ints(*fixture->find("image_grid_thw"));
  REQUIRE(pixels.grid_thw.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    for (size_t k = 0; k < 3; ++k) CHECK(pixels.grid_thw[i][k] == grid[i * 3 + k]);
  }
  CHECK(pixels.tokens_per_image == read_ints(*fixture->find("vision_out_split")));

  const double diff_hf = max_abs_diff(pixels.data, read_floats(*fixture->find("pixel_values")));
  const double diff_ref =
      max_abs_diff(pixels.data, read_floats(*fixture->find("pixel_values_ref")));
  const double diff_pil = max_abs_diff(
      pixels.data, read_floats(*fixture->find("pixel_values_hf_Qwen2VLImageProcessorPil")));
  MESSAGE("pixel_values max|diff|: vs transformers "
          << diff_hf << ", vs numpy reference " << diff_ref << ", vs PIL processor " << diff_pil);
  CHECK(diff_hf <= 1e-5);
  CHECK(diff_ref <= 1e-5);
  CHECK(diff_pil <= 1e-5);

  // Reusing the output keeps the result.
  PixelValues reused = pixels;
  processor.process(images, reused);
  CHECK(reused.data == pixels.data);
}

TEST_CASE("image: bicubic resize equals Pillow's BICUBIC exactly") {
  const auto reference = SafetensorsFile::open(kDataDir + "/dream_vla/pil_bicubic.safetensors");
  int cases = 0;
  for (const TensorView& view : reference->tensors()) {
    const size_t underscore = view.name.find('_');
    if (underscore == std::string::npos) continue;
    const envs::Image source = image_from(*reference->find(view.name.substr(0, underscore)));
    const envs::Image expected = image_from(view);
    const envs::Image resized = resize_bicubic(source, expected.width, expected.height);
    int max_diff = 0;
    for (size_t i = 0; i < expected.pixels.size(); ++i) {
      max_diff = std::max(max_diff, std::abs(int(resized.pixels[i]) - int(expected.pixels[i])));
    }
    MESSAGE(view.name << ": " << source.width << "x" << source.height << " -> " << expected.width
                      << "x" << expected.height << ", max|diff| " << max_diff);
    CHECK(max_diff == 0);
    ++cases;
  }
  CHECK(cases == 9);
  // Same size: a copy.
  const envs::Image image = random_image(17, 9, 3);
  CHECK(resize_bicubic(image, 17, 9).pixels == image.pixels);
}

TEST_CASE("image: processor resizes with bicubic before patchifying") {
  const auto reference = SafetensorsFile::open(kDataDir + "/dream_vla/pil_bicubic.safetensors");
  // smart_resize(64, 80) = (56, 84): the processor must resize like Pillow.
  const ImageProcessor processor;
  const std::vector<envs::Image> original = {image_from(*reference->find("smooth"))};
  const std::vector<envs::Image> resized = {image_from(*reference->find("smooth_84x56"))};
  const PixelValues from_original = processor.process(original);
  const PixelValues from_resized = processor.process(resized);
  CHECK((from_original.grid_thw[0] == std::array<int64_t, 3>{1, 4, 6}));
  CHECK(from_original.tokens_per_image[0] == 6);
  CHECK(from_original.data == from_resized.data);
}

TEST_CASE("image: smart_resize follows the Qwen2-VL rules") {
  using Size = std::pair<int, int>;
  CHECK((smart_resize(224, 224, 28, 50176, 3211264) == Size{224, 224}));
  CHECK((smart_resize(256, 256, 28, 3136, 3211264) == Size{252, 252}));
  CHECK((smart_resize(100, 30, 28, 3136, 3211264) == Size{112, 28}));
  CHECK((smart_resize(56, 56, 28, 50176, 3211264) == Size{224, 224}));
  CHECK((smart_resize(900, 600, 28, 3136, 12544) == Size{112, 84}));
  CHECK((smart_resize(10, 50, 28, 3136, 3211264) == Size{28, 140}));
  // Python round: half to even (1.5 -> 2, 2.5 -> 2).
  CHECK((smart_resize(42, 42, 28, 3136, 3211264) == Size{56, 56}));
  CHECK((smart_resize(70, 70, 28, 3136, 3211264) == Size{56, 56}));
  CHECK_THROWS_WITH_AS(smart_resize(28, 6000, 28, 3136, 3211264), doctest::Contains("aspect ratio"),
                       std::runtime_error);
}

TEST_CASE("image: LIBERO recipe gives 2 x 256 patches and tiles frames") {
  const ImageProcessor processor;
  std::vector<envs::Image> images = {random_image(224, 224, 1), random_image(224, 224, 2)};
  const PixelValues pixels = processor.process(images);
  CHECK(pixels.rows == 512);
  CHECK((pixels.grid_thw[1] == std::array<int64_t, 3>{1, 16, 16}));
  CHECK((pixels.tokens_per_image == std::vector<int64_t>{64, 64}));
  // Both temporal frames of each channel are equal.
  bool tiled = true;
  for (int64_t row = 0; row < pixels.rows; row += 37) {
    for (int c = 0; c < 3; ++c) {
      const float* frame0 = &pixels.data[row * pixels.cols + c * 392];
      tiled = tiled && std::equal(frame0, frame0 + 196, frame0 + 196);
    }
  }
  CHECK(tiled);
  // Merge-window order: row 1 is patch (0, 1), row 2 is patch (1, 0); column 0 is pixel (y, x) =
  // (0, 0) red.
  const float* normalized_red = &pixels.data[0];
  const auto red = [&](int y, int x) {
    const float unit = static_cast<float>(images[0].pixels[(y * 224 + x) * 3] * (1.0 / 255.0));
    return (unit - 0.48145466f) / 0.26862954f;
  };
  CHECK(normalized_red[0] == red(0, 0));
  CHECK(pixels.data[1 * pixels.cols] == red(0, 14));
  CHECK(pixels.data[2 * pixels.cols] == red(14, 0));
  CHECK(pixels.data[4 * pixels.cols] == red(0, 28));
  CHECK(pixels.data[(8 * 4) * pixels.cols] ==
        red(28, 0));  // merge block row 1 starts after 8 windows of 4

  images[0].pixels.pop_back();
  CHECK_THROWS_WITH_AS(processor.process(images), doctest::Contains("expected width*height*3"),
                       std::runtime_error);
}

TEST_CASE("image: eval transforms (rotation, center crop, Lanczos resize)") {
  // Rotation reverses rows and columns.
  envs::Image image = random_image(3, 2, 5);
  const envs::Image rotated = rotate_180(image);
  for (int y = 0; y < 2; ++y) {
    for (int x = 0; x < 3; ++x) {
      for (int c = 0; c < 3; ++c) {
        CHECK(rotated.pixels[(y * 3 + x) * 3 + c] == image.pixels[((1 - y) * 3 + (2 - x)) * 3 + c]);
      }
    }
  }
  CHECK(rotate_180(rotated).pixels == image.pixels);

  // Crop of the full area is the identity (TF's x * 255.5 truncation round-trips every value).
  const envs::Image noise = random_image(224, 224, 9);
  CHECK(center_crop(noise, 1.0f).pixels == noise.pixels);

  // A horizontal ramp: the 0.9-area crop samples columns o*(W-1) + x*s*(W-1)/(W-1).
  envs::Image ramp;
  ramp.width = ramp.height = 224;
  ramp.pixels.resize(224 * 224 * 3);
  for (int y = 0; y < 224; ++y) {
    for (int x = 0; x < 224; ++x) {
      for (int c = 0; c < 3; ++c) ramp.pixels[(y * 224 + x) * 3 + c] = static_cast<uint8_t>(x);
    }
  }
  const envs::Image cropped = center_crop(ramp, 0.9f);
  const double side = std::sqrt(0.9), offset = (1 - side) / 2;
  int worst = 0;
  for (int x = 0; x < 224; ++x) {
    const double expected = offset * 223 + x * side;
    worst = std::max(
        worst, std::abs(int(cropped.pixels[(100 * 224 + x) * 3]) - int(std::floor(expected))));
  }
  CHECK(worst <= 1);
  CHECK(cropped.pixels[0] == 5);                        // 0.0257 * 223 = 5.72
  CHECK(cropped.pixels[(224 * 223 + 223) * 3] == 217);  // 5.72 + 211.56 = 217.28
  CHECK_THROWS_WITH_AS(center_crop(ramp, 0.0f), doctest::Contains("area fraction"),
                       std::runtime_error);

  // Lanczos-3 256 -> 224: a constant stays constant, a ramp stays a ramp inside.
  envs::Image flat;
  flat.width = flat.height = 256;
  flat.pixels.assign(256 * 256 * 3, 77);
  CHECK(resize_lanczos3(flat, 224, 224).pixels == std::vector<uint8_t>(224 * 224 * 3, 77));
  envs::Image wide_ramp = flat;
  for (int y = 0; y < 256; ++y) {
    for (int x = 0; x < 256; ++x) {
      for (int c = 0; c < 3; ++c) wide_ramp.pixels[(y * 256 + x) * 3 + c] = static_cast<uint8_t>(x);
    }
  }
  const envs::Image small = resize_lanczos3(wide_ramp, 224, 224);
  worst = 0;
  for (int x = 4; x < 220; ++x) {
    const double expected = (x + 0.5) * 256.0 / 224.0 - 0.5;
    worst = std::max(worst, int(std::ceil(std::abs(small.pixels[(50 * 224 + x) * 3] - expected))));
  }
  CHECK(worst <= 1);

  // The full recipe in order.
  EvalImageTransform transform;
  transform.rotate_180 = true;
  transform.resize_to = 224;
  transform.center_crop = true;
  const envs::Image out = apply_eval_transform(wide_ramp, transform);
  CHECK(out.width == 224);
  CHECK(out.height == 224);
  CHECK(out.pixels == center_crop(resize_lanczos3(rotate_180(wide_ramp), 224, 224), 0.9f).pixels);
}

TEST_CASE("image: preprocessor_config.json reader") {
  const fs::path directory =
      fs::temp_directory_path() / ("vla_image_test_" + std::to_string(::getpid()));
  fs::create_directories(directory);
  const std::string path = (directory / "preprocessor_config.json").string();
  std::ofstream(path)
      << R"({"min_pixels": 50176, "max_pixels": 3211264, "patch_size": 14, "temporal_patch_size": 2,
    "merge_size": 2, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.25, 0.25, 0.25], "resample": 3,
    "rescale_factor": 0.00392156862745098, "size": {"min_pixels": 3136, "max_pixels": 12845056}})";
  ImageProcessorConfig config = load_image_processor_config(path);
  CHECK(config.min_pixels == 50176);
  CHECK(config.max_pixels == 3211264);
  CHECK(config.image_mean[1] == 0.5f);
  CHECK(config.image_std[2] == 0.25f);
  std::ofstream(path) << R"({"size": {"shortest_edge": 3136, "longest_edge": 12544}})";
  config = load_image_processor_config(path);
  CHECK(config.min_pixels == 3136);
  CHECK(config.max_pixels == 12544);
  std::ofstream(path) << R"({"image_mean": [0.5, 0.5]})";
  CHECK_THROWS_WITH_AS(load_image_processor_config(path),
                       doctest::Contains("\"image_mean\" must be an array of 3 numbers"),
                       std::runtime_error);
  std::ofstream(path) << R"({"resample": 2})";
  CHECK_THROWS_WITH_AS(load_image_processor_config(path), doctest::Contains("resample=3"),
                       std::runtime_error);
  std::ofstream(path) << R"({"min_pixels": "many"})";
  CHECK_THROWS_WITH_AS(load_image_processor_config(path),
                       doctest::Contains("\"min_pixels\" must be a positive integer"),
                       std::runtime_error);
  std::ofstream(path) << "{";
  CHECK_THROWS_WITH_AS(load_image_processor_config(path), doctest::Contains("not valid JSON"),
                       std::runtime_error);
  fs::remove_all(directory);
}
