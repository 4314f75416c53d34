#include "policies/dream_vla/demo_data.h"

#include <hdf5.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <stdexcept>

namespace policies::dream_vla {
namespace {

// Owns an HDF5 identifier.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  operator hid_t() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

struct Reader {
  std::string file;

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("demos " + file + ": " + what);
  }

  std::string string_attribute(hid_t object, const std::string& where, const char* name) const {
    if (H5Aexists(object, name) <= 0) fail(where + " has no attribute " + name);
    Handle attribute(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
    Handle type(H5Aget_type(attribute), H5Tclose);
    if (H5Tget_class(type) != H5T_STRING) fail(where + "/" + name + " is not a string");
    if (H5Tis_variable_str(type) > 0) {
      Handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_size(memory, H5T_VARIABLE);
      H5Tset_cset(memory, H5Tget_cset(type));
      char* text = nullptr;
      if (H5Aread(attribute, memory, &text) < 0 || text == nullptr) fail(std::string("cannot read ") + name);
      std::string value(text);
      H5free_memory(text);
      return value;
    }
    const size_t size = H5Tget_size(type);
    std::string value(size, '\0');
    if (H5Aread(attribute, type, value.data()) < 0) fail(std::string("cannot read ") + name);
    value.resize(std::strlen(value.c_str()));
    return value;
  }

  // Dataset `name` under `group` as `memory_type` values, with its shape.
  template <typename T>
  std::vector<T> dataset(hid_t group, const std::string& where, const std::string& name,
                         hid_t memory_type, std::vector<hsize_t>& shape) const {
    if (H5Lexists(group, name.c_str(), H5P_DEFAULT) <= 0) fail(where + " has no " + name);
    Handle data(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose);
    if (!data.valid()) fail("cannot open " + where + "/" + name);
    Handle space(H5Dget_space(data), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space);
    shape.assign(std::max(rank, 0), 0);
    H5Sget_simple_extent_dims(space, shape.data(), nullptr);
    size_t count = 1;
    for (hsize_t d : shape) count *= d;
    std::vector<T> values(count);
    if (count > 0 && H5Dread(data, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0) {
      fail("cannot read " + where + "/" + name);
    }
    return values;
  }
};

void append_columns(const std::vector<double>& values, size_t width, std::vector<float>& out,
                    size_t row, size_t out_width, size_t offset) {
  for (size_t c = 0; c < width; ++c) out[row * out_width + offset + c] = float(values[row * width + c]);
}

}  // namespace

int64_t DemoSet::transitions() const {
  int64_t total = 0;
  for (const Demo& demo : demos) total += demo.steps;
  return total;
}

DemoSet read_demos(const std::vector<std::string>& files, int max_per_task, int image_stride) {
  if (files.empty()) throw std::runtime_error("demos: no file given");
  if (image_stride < 1) throw std::runtime_error("demos: image stride must be positive");
  DemoSet set;
  std::map<std::string, int> per_task;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors are reported by the exceptions below
  for (const std::string& path : files) {
    Reader reader{path};
    if (!std::filesystem::is_regular_file(path)) reader.fail("no such file");
    if (H5Fis_hdf5(path.c_str()) <= 0) reader.fail("not an HDF5 file");
    Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file.valid()) reader.fail("cannot open");
    if (H5Lexists(file, "data", H5P_DEFAULT) <= 0) reader.fail("no 'data' group");
    Handle data(H5Gopen2(file, "data", H5P_DEFAULT), H5Gclose);
    H5G_info_t info;
    H5Gget_info(data, &info);
    // Demo names in index order (demo_0, demo_1, ... demo_10).
    std::vector<std::pair<long, std::string>> names;
    for (hsize_t i = 0; i < info.nlinks; ++i) {
      char name[256];
      H5Lget_name_by_idx(data, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof(name), H5P_DEFAULT);
      const std::string text(name);
      if (text.rfind("demo_", 0) == 0) names.emplace_back(std::stol(text.substr(5)), text);
    }
    std::sort(names.begin(), names.end());
    if (names.empty()) reader.fail("no demo_<i> groups under data");
    for (const auto& [index, name] : names) {
      const std::string where = "data/" + name;
      Handle demo_group(H5Gopen2(data, name.c_str(), H5P_DEFAULT), H5Gclose);
      Demo demo;
      demo.task_key = reader.string_attribute(demo_group, where, "task_key");
      if (max_per_task > 0 && per_task[demo.task_key] >= max_per_task) continue;
      demo.instruction = reader.string_attribute(demo_group, where, "language_instruction");
      std::vector<hsize_t> shape;
      const auto actions = reader.dataset<double>(demo_group, where, "actions", H5T_NATIVE_DOUBLE, shape);
      if (shape.size() != 2 || shape[1] != 7) reader.fail(where + "/actions is not (T, 7)");
      const size_t steps = shape[0];
      if (steps == 0) reader.fail(where + " has no steps");
      demo.steps = int(steps);
      demo.image_stride = image_stride;
      demo.actions.assign(actions.begin(), actions.end());
      if (H5Lexists(demo_group, "obs", H5P_DEFAULT) <= 0) reader.fail(where + " has no obs group");
      Handle obs(H5Gopen2(demo_group, "obs", H5P_DEFAULT), H5Gclose);
      const std::string obs_where = where + "/obs";
      demo.proprio.assign(steps * 8, 0.0f);
      const std::pair<const char*, size_t> parts[] = {{"ee_pos", 3}, {"ee_ori", 3}, {"gripper_states", 2}};
      size_t offset = 0;
      for (const auto& [part, width] : parts) {
        const auto values = reader.dataset<double>(obs, obs_where, part, H5T_NATIVE_DOUBLE, shape);
        if (shape.size() != 2 || shape[0] != steps || shape[1] != width) {
          reader.fail(obs_where + "/" + part + " is not (" + std::to_string(steps) + ", " +
                      std::to_string(width) + ")");
        }
        for (size_t row = 0; row < steps; ++row) append_columns(values, width, demo.proprio, row, 8, offset);
        offset += width;
      }
      for (auto [camera, out] : {std::pair{"agentview_rgb", &demo.agentview},
                                 std::pair{"eye_in_hand_rgb", &demo.eye_in_hand}}) {
        *out = reader.dataset<uint8_t>(obs, obs_where, camera, H5T_NATIVE_UINT8, shape);
        if (shape.size() != 4 || shape[0] != steps || shape[1] != shape[2] || shape[3] != 3) {
          reader.fail(obs_where + "/" + camera + " is not (T, S, S, 3) with T = " + std::to_string(steps));
        }
        if (set.image_size == 0) set.image_size = int(shape[1]);
        if (image_stride > 1) {
          const size_t frame = size_t(shape[1]) * shape[2] * 3;
          size_t kept = 0;
          for (size_t t = 0; t < steps; t += image_stride, ++kept) {
            std::copy_n(out->begin() + t * frame, frame, out->begin() + kept * frame);
          }
          out->resize(kept * frame);
          out->shrink_to_fit();
        }
        if (int(shape[1]) != set.image_size) {
          reader.fail(obs_where + "/" + camera + " is " + std::to_string(shape[1]) + " px, earlier demos " +
                      std::to_string(set.image_size) + " px");
        }
      }
      ++per_task[demo.task_key];
      set.demos.push_back(std::move(demo));
    }
    set.files.push_back(path);
  }
  return set;
}

}  // namespace policies::dream_vla
