#include "policies/remote/profile.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

namespace policies::remote {
namespace {

using nlohmann::json;

[[noreturn]] void profile_error(const std::string& path, const std::string& problem) {
  throw std::runtime_error("profile " + path + ": " + problem);
}

// Refuses keys outside `allowed` so that a typo does not silently change the mapping.
void check_keys(const json& object, const std::set<std::string>& allowed, const std::string& where,
                const std::string& path) {
  if (!object.is_object()) profile_error(path, where + " must be an object");
  for (const auto& [key, value] : object.items()) {
    if (!allowed.count(key) && key != "comment") {
      std::string valid;
      for (const std::string& name : allowed) valid += (valid.empty() ? "" : ", ") + name;
      profile_error(path, where + ": unknown key '" + key + "' (valid: " + valid + ", comment)");
    }
  }
}

template <typename T>
T required(const json& object, const std::string& key, const std::string& where,
           const std::string& path) {
  if (!object.contains(key)) profile_error(path, where + ": missing '" + key + "'");
  try {
    return object.at(key).get<T>();
  } catch (const json::exception& error) {
    profile_error(path, where + "." + key + ": " + error.what());
  }
}

template <typename T>
T optional(const json& object, const std::string& key, T fallback, const std::string& where,
           const std::string& path) {
  if (!object.contains(key)) return fallback;
  return required<T>(object, key, where, path);
}

void check_leading_dims(const std::vector<int64_t>& dims, const std::string& where,
                        const std::string& path) {
  for (int64_t dim : dims) {
    if (dim < 1) profile_error(path, where + ".leading_dims: dimensions must be >= 1");
  }
}

// PIL-style separable resampling with a triangle (bilinear) filter whose support
// grows with the downscale factor (antialiased), rounding to uint8 after each pass.
struct Taps {
  std::vector<int> first;      // first source index per output index
  std::vector<int> count;      // taps per output index
  std::vector<float> weights;  // count[i] weights per output index, max_taps apart
  int max_taps = 0;
};

Taps make_taps(int source, int target) {
  Taps taps;
  const double scale = double(source) / target;
  const double filter_scale = std::max(scale, 1.0);
  const double support = filter_scale;  // triangle support 1, scaled
  taps.max_taps = int(std::ceil(support)) * 2 + 1;
  taps.first.resize(target);
  taps.count.resize(target);
  taps.weights.assign(size_t(target) * taps.max_taps, 0.0f);
  for (int x = 0; x < target; ++x) {
    const double centre = (x + 0.5) * scale;
    const int low = std::max(0, int(centre - support + 0.5));
    const int high = std::min(source, int(centre + support + 0.5));
    double total = 0;
    std::vector<double> w;
    for (int i = low; i < high; ++i) {
      const double t = (i - centre + 0.5) / filter_scale;
      w.push_back(std::max(0.0, 1.0 - std::abs(t)));
      total += w.back();
    }
    taps.first[x] = low;
    taps.count[x] = std::min<int>(int(w.size()), taps.max_taps);
    for (int k = 0; k < taps.count[x]; ++k) {
      taps.weights[size_t(x) * taps.max_taps + k] = total > 0 ? float(w[k] / total) : 0.0f;
    }
  }
  return taps;
}

uint8_t to_byte(float value) {
  return static_cast<uint8_t>(std::clamp(std::lround(value), 0L, 255L));
}

void check_image(const envs::Image& image, const std::string& what) {
  if (image.width <= 0 || image.height <= 0 ||
      image.pixels.size() != size_t(image.width) * image.height * 3) {
    throw std::runtime_error(what + ": " + std::to_string(image.pixels.size()) +
                             " bytes do not match " + std::to_string(image.width) + "x" +
                             std::to_string(image.height) + "x3");
  }
}

}  // namespace

Profile load_profile(const std::string& path) {
  std::ifstream in(path);
  if (!in) profile_error(path, "cannot open the file");
  json root;
  try {
    root = json::parse(in);
  } catch (const json::exception& error) {
    profile_error(path, std::string("not valid JSON: ") + error.what());
  }
  check_keys(root,
             {"name", "protocol", "family", "images", "state", "prompt", "actions", "render_size",
              "replan_steps", "action_space"},
             "profile", path);
  Profile profile;
  profile.path = path;
  profile.name = required<std::string>(root, "name", "profile", path);
  profile.protocol = required<std::string>(root, "protocol", "profile", path);
  if (profile.protocol != "openpi" && profile.protocol != "gr00t") {
    profile_error(path,
                  "protocol must be \"openpi\" or \"gr00t\", got \"" + profile.protocol + "\"");
  }
  profile.family = required<std::string>(root, "family", "profile", path);
  profile.render_size = optional<int>(root, "render_size", profile.render_size, "profile", path);
  profile.replan_steps = optional<int>(root, "replan_steps", profile.replan_steps, "profile", path);
  profile.action_space =
      optional<std::string>(root, "action_space", profile.action_space, "profile", path);
  if (profile.render_size < 1) profile_error(path, "render_size must be >= 1");
  if (profile.replan_steps < 1) profile_error(path, "replan_steps must be >= 1");

  std::set<std::string> keys;  // wire keys, each used once
  auto claim = [&](const std::string& key, const std::string& where) {
    if (key.empty()) profile_error(path, where + ": empty key");
    if (!keys.insert(key).second) profile_error(path, where + ": key '" + key + "' used twice");
  };
  const json images = optional<json>(root, "images", json::array(), "profile", path);
  for (size_t i = 0; i < images.size(); ++i) {
    const std::string where = "images[" + std::to_string(i) + "]";
    const json& item = images[i];
    check_keys(item, {"key", "camera", "width", "height", "pad", "rotate_180", "leading_dims"},
               where, path);
    ImageField field;
    field.key = required<std::string>(item, "key", where, path);
    field.camera = required<std::string>(item, "camera", where, path);
    field.width = optional<int>(item, "width", field.width, where, path);
    field.height = optional<int>(item, "height", field.height, where, path);
    field.pad = optional<bool>(item, "pad", field.pad, where, path);
    field.rotate_180 = optional<bool>(item, "rotate_180", field.rotate_180, where, path);
    field.leading_dims =
        optional<std::vector<int64_t>>(item, "leading_dims", field.leading_dims, where, path);
    if (field.width < 1 || field.height < 1 || field.width > 8192 || field.height > 8192) {
      profile_error(path, where + ": width and height must be in 1..8192");
    }
    check_leading_dims(field.leading_dims, where, path);
    claim(field.key, where);
    profile.images.push_back(std::move(field));
  }
  const json state = optional<json>(root, "state", json::array(), "profile", path);
  for (size_t i = 0; i < state.size(); ++i) {
    const std::string where = "state[" + std::to_string(i) + "]";
    const json& item = state[i];
    check_keys(item, {"key", "offset", "size", "dtype", "leading_dims"}, where, path);
    StateField field;
    field.key = required<std::string>(item, "key", where, path);
    field.offset = optional<int>(item, "offset", field.offset, where, path);
    field.size = required<int>(item, "size", where, path);
    field.dtype = optional<std::string>(item, "dtype", field.dtype, where, path);
    field.leading_dims =
        optional<std::vector<int64_t>>(item, "leading_dims", field.leading_dims, where, path);
    if (field.offset < 0 || field.size < 1) {
      profile_error(path, where + ": offset must be >= 0 and size >= 1");
    }
    if (field.dtype != "<f4" && field.dtype != "<f8") {
      profile_error(path,
                    where + ": dtype must be \"<f4\" or \"<f8\", got \"" + field.dtype + "\"");
    }
    check_leading_dims(field.leading_dims, where, path);
    claim(field.key, where);
    profile.state.push_back(std::move(field));
  }
  if (root.contains("prompt")) {
    const json& prompt = root["prompt"];
    check_keys(prompt, {"key", "as_list"}, "prompt", path);
    profile.prompt_key = required<std::string>(prompt, "key", "prompt", path);
    profile.prompt_as_list = optional<bool>(prompt, "as_list", false, "prompt", path);
    claim(profile.prompt_key, "prompt");
  }
  const json actions = required<json>(root, "actions", "profile", path);
  if (!actions.is_array() || actions.empty())
    profile_error(path, "actions must be a non-empty array");
  std::array<int, 7> covered{};
  for (size_t i = 0; i < actions.size(); ++i) {
    const std::string where = "actions[" + std::to_string(i) + "]";
    const json& item = actions[i];
    check_keys(item, {"key", "offset", "size", "scale", "shift"}, where, path);
    ActionField field;
    field.key = required<std::string>(item, "key", where, path);
    field.offset = optional<int>(item, "offset", field.offset, where, path);
    field.size = optional<int>(item, "size", field.size, where, path);
    field.scale = optional<std::vector<float>>(item, "scale", {}, where, path);
    field.shift = optional<std::vector<float>>(item, "shift", {}, where, path);
    if (field.offset < 0 || field.size < 1 || field.offset + field.size > 7) {
      profile_error(path, where + ": offset and size must lie within the 7 action dimensions");
    }
    if ((!field.scale.empty() && int(field.scale.size()) != field.size) ||
        (!field.shift.empty() && int(field.shift.size()) != field.size)) {
      profile_error(path, where + ": scale and shift need one value per column (" +
                              std::to_string(field.size) + ")");
    }
    for (int d = field.offset; d < field.offset + field.size; ++d) ++covered[d];
    if (!keys.insert("reply:" + field.key).second) {
      profile_error(path, where + ": key '" + field.key + "' used twice");
    }
    profile.actions.push_back(std::move(field));
  }
  for (int d = 0; d < 7; ++d) {
    if (covered[d] != 1) {
      profile_error(path, "action dimension " + std::to_string(d) + " is filled " +
                              std::to_string(covered[d]) + " times (each must be filled once)");
    }
  }
  return profile;
}

std::string profiles_directory() {
  if (const char* directory = std::getenv("VLA_PROFILES_DIR"); directory && *directory) {
    return directory;
  }
  return VLA_PROFILES_DIR;
}

Profile find_profile(const std::string& name_or_path) {
  const bool is_path =
      name_or_path.find('/') != std::string::npos || name_or_path.ends_with(".json");
  const std::string path =
      is_path ? name_or_path : profiles_directory() + "/" + name_or_path + ".json";
  if (!std::filesystem::exists(path)) {
    std::string shipped;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(profiles_directory(), error)) {
      if (entry.path().extension() == ".json") shipped += " " + entry.path().stem().string();
    }
    throw std::runtime_error("remote policy profile '" + name_or_path + "' not found (" + path +
                             "); shipped profiles:" + (shipped.empty() ? " none" : shipped));
  }
  return load_profile(path);
}

void resize_bilinear(const envs::Image& image, int width, int height, envs::Image& out) {
  check_image(image, "resize");
  out.width = width;
  out.height = height;
  out.pixels.resize(size_t(width) * height * 3);
  if (width == image.width && height == image.height) {
    out.pixels = image.pixels;
    return;
  }
  // Horizontal pass into an intermediate image of the source height.
  const Taps horizontal = make_taps(image.width, width);
  std::vector<uint8_t> middle(size_t(width) * image.height * 3);
  for (int y = 0; y < image.height; ++y) {
    const uint8_t* row = image.pixels.data() + size_t(y) * image.width * 3;
    for (int x = 0; x < width; ++x) {
      const float* w = horizontal.weights.data() + size_t(x) * horizontal.max_taps;
      for (int c = 0; c < 3; ++c) {
        float sum = 0;
        for (int k = 0; k < horizontal.count[x]; ++k) {
          sum += w[k] * row[(horizontal.first[x] + k) * 3 + c];
        }
        middle[(size_t(y) * width + x) * 3 + c] = to_byte(sum);
      }
    }
  }
  const Taps vertical = make_taps(image.height, height);
  for (int y = 0; y < height; ++y) {
    const float* w = vertical.weights.data() + size_t(y) * vertical.max_taps;
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < 3; ++c) {
        float sum = 0;
        for (int k = 0; k < vertical.count[y]; ++k) {
          sum += w[k] * middle[(size_t(vertical.first[y] + k) * width + x) * 3 + c];
        }
        out.pixels[(size_t(y) * width + x) * 3 + c] = to_byte(sum);
      }
    }
  }
}

void resize_with_pad(const envs::Image& image, int width, int height, envs::Image& out) {
  check_image(image, "resize_with_pad");
  if (image.width == width && image.height == height) {
    out = image;
    return;
  }
  const double ratio = std::max(double(image.width) / width, double(image.height) / height);
  const int resized_width = std::max(1, int(image.width / ratio));
  const int resized_height = std::max(1, int(image.height / ratio));
  envs::Image resized;
  resize_bilinear(image, resized_width, resized_height, resized);
  out.width = width;
  out.height = height;
  out.pixels.assign(size_t(width) * height * 3, 0);
  const int pad_x = std::max(0, (width - resized_width) / 2);
  const int pad_y = std::max(0, (height - resized_height) / 2);
  for (int y = 0; y < resized_height && pad_y + y < height; ++y) {
    const int columns = std::min(resized_width, width - pad_x);
    std::copy_n(resized.pixels.data() + size_t(y) * resized_width * 3, size_t(columns) * 3,
                out.pixels.data() + (size_t(pad_y + y) * width + pad_x) * 3);
  }
}

openpi::Value ObservationEncoder::encode(const envs::Observation& observation) {
  openpi::Value request = openpi::Value::map();
  for (const ImageField& field : profile_.images) {
    const auto it = observation.images.find(field.camera);
    if (it == observation.images.end()) {
      throw std::runtime_error("remote policy: the observation has no camera '" + field.camera +
                               "' (needed for '" + field.key + "')");
    }
    const envs::Image* source = &it->second;
    check_image(*source, "camera '" + field.camera + "'");
    if (field.rotate_180) {
      rotated_.width = source->width;
      rotated_.height = source->height;
      rotated_.pixels.resize(source->pixels.size());
      const size_t pixels = size_t(source->width) * source->height;
      for (size_t p = 0; p < pixels; ++p) {
        std::copy_n(source->pixels.data() + p * 3, 3,
                    rotated_.pixels.data() + (pixels - 1 - p) * 3);
      }
      source = &rotated_;
    }
    const envs::Image* sent = source;
    if (source->width != field.width || source->height != field.height) {
      if (field.pad) {
        resize_with_pad(*source, field.width, field.height, resized_);
      } else {
        resize_bilinear(*source, field.width, field.height, resized_);
      }
      sent = &resized_;
    }
    std::vector<int64_t> shape = field.leading_dims;
    shape.insert(shape.end(), {sent->height, sent->width, 3});
    request.set(field.key, openpi::Value(openpi::make_uint8_array(sent->pixels, std::move(shape))));
  }
  for (const StateField& field : profile_.state) {
    if (int(observation.proprio.size()) < field.offset + field.size) {
      throw std::runtime_error(
          "remote policy: '" + field.key + "' needs proprio[" + std::to_string(field.offset) + ":" +
          std::to_string(field.offset + field.size) + "], but the proprio has " +
          std::to_string(observation.proprio.size()) + " values");
    }
    std::vector<int64_t> shape = field.leading_dims;
    shape.push_back(field.size);
    const std::span<const float> values(observation.proprio.data() + field.offset, field.size);
    if (field.dtype == "<f8") {
      std::vector<double> doubles(values.begin(), values.end());
      openpi::NdArray array;
      array.dtype = "<f8";
      array.shape = std::move(shape);
      const auto* bytes = reinterpret_cast<const uint8_t*>(doubles.data());
      array.data.assign(bytes, bytes + doubles.size() * sizeof(double));
      request.set(field.key, openpi::Value(std::move(array)));
    } else {
      request.set(field.key, openpi::Value(openpi::make_float32_array(values, std::move(shape))));
    }
  }
  if (!profile_.prompt_key.empty()) {
    if (profile_.prompt_as_list) {
      openpi::Value list = openpi::Value::array();
      list.push_back(openpi::Value::string(observation.instruction));
      request.set(profile_.prompt_key, std::move(list));
    } else {
      request.set(profile_.prompt_key, openpi::Value::string(observation.instruction));
    }
  }
  return request;
}

ActionChunk decode_action_chunk(const Profile& profile, const openpi::Value& reply) {
  if (reply.kind() != openpi::Value::Kind::kMap) {
    throw std::runtime_error("bad reply: expected a map, got another msgpack value");
  }
  ActionChunk chunk;
  std::vector<float> values;
  for (const ActionField& field : profile.actions) {
    const openpi::Value* value = reply.find(field.key);
    if (value == nullptr) {
      std::string present;
      for (size_t i = 0; i < reply.size(); ++i) present += (i ? ", " : "") + reply.key(i);
      throw std::runtime_error("bad reply: no '" + field.key + "' (keys: " + present + ")");
    }
    if (value->kind() != openpi::Value::Kind::kNdArray) {
      throw std::runtime_error("bad reply: '" + field.key + "' is not an array");
    }
    const openpi::NdArray& array = value->as_ndarray(field.key);
    std::string shape;
    for (size_t i = 0; i < array.shape.size(); ++i) {
      shape += (i ? ", " : "") + std::to_string(array.shape[i]);
    }
    if (array.shape.size() != 2 || array.shape[0] < 1 || array.shape[1] != field.size) {
      throw std::runtime_error("bad reply: '" + field.key + "' has shape (" + shape +
                               "), expected (horizon, " + std::to_string(field.size) + ")");
    }
    if (chunk.empty()) {
      chunk.assign(array.shape[0], envs::Action{});
    } else if (int64_t(chunk.size()) != array.shape[0]) {
      throw std::runtime_error("bad reply: '" + field.key + "' has horizon " +
                               std::to_string(array.shape[0]) + ", other action keys " +
                               std::to_string(chunk.size()));
    }
    openpi::to_floats(array, values);
    for (size_t t = 0; t < chunk.size(); ++t) {
      for (int c = 0; c < field.size; ++c) {
        const float raw = values[t * field.size + c];
        if (!std::isfinite(raw)) {
          throw std::runtime_error("bad reply: '" + field.key + "' holds a non-finite value (" +
                                   std::to_string(raw) + ") at [" + std::to_string(t) + ", " +
                                   std::to_string(c) + "]");
        }
        const float scale = field.scale.empty() ? 1.0f : field.scale[c];
        const float shift = field.shift.empty() ? 0.0f : field.shift[c];
        chunk[t][field.offset + c] = raw * scale + shift;
      }
    }
  }
  return chunk;
}

}  // namespace policies::remote
