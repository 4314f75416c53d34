#include "policies/dream_vla/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

namespace policies::dream_vla {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; big-endian hosts are not supported");

namespace {

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;  // same bound as the reference reader

struct DTypeInfo {
  DType dtype;
  std::string_view name;
  size_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {DType::F64, "F64", 8},   {DType::F32, "F32", 4}, {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2}, {DType::I64, "I64", 8}, {DType::I32, "I32", 4},
    {DType::I16, "I16", 2},   {DType::I8, "I8", 1},   {DType::U8, "U8", 1},
    {DType::BOOL, "BOOL", 1},
};

const DTypeInfo& info_of(DType dtype) {
  for (const auto& info : kDTypes) {
    if (info.dtype == dtype) return info;
  }
  throw std::logic_error("unhandled DType");
}

std::runtime_error file_error(const std::string& path, const std::string& problem) {
  return std::runtime_error("safetensors file " + path + ": " + problem);
}

template <typename T>
T load_unaligned(const uint8_t* bytes) {
  T value;
  std::memcpy(&value, bytes, sizeof(T));
  return value;
}

// Reads element i of `view` as double (any dtype).
double element_as_double(const TensorView& view, size_t i) {
  const uint8_t* p = view.data + i * dtype_size(view.dtype);
  switch (view.dtype) {
    case DType::F64:
      return load_unaligned<double>(p);
    case DType::F32:
      return load_unaligned<float>(p);
    case DType::F16:
      return half_to_float(load_unaligned<uint16_t>(p));
    case DType::BF16:
      return bf16_to_float(load_unaligned<uint16_t>(p));
    case DType::I64:
      return static_cast<double>(load_unaligned<int64_t>(p));
    case DType::I32:
      return load_unaligned<int32_t>(p);
    case DType::I16:
      return load_unaligned<int16_t>(p);
    case DType::I8:
      return load_unaligned<int8_t>(p);
    case DType::U8:
      return *p;
    case DType::BOOL:
      return *p != 0 ? 1.0 : 0.0;
  }
  return 0;
}

}  // namespace

std::string_view dtype_name(DType dtype) { return info_of(dtype).name; }

size_t dtype_size(DType dtype) { return info_of(dtype).size; }

DType parse_dtype(std::string_view name) {
  for (const auto& info : kDTypes) {
    if (info.name == name) return info.dtype;
  }
  throw std::runtime_error("unknown dtype \"" + std::string(name) +
                           "\" (supported: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL)");
}

int64_t element_count(const std::vector<int64_t>& shape) {
  int64_t count = 1;
  for (int64_t dim : shape) count *= dim;
  return count;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

float half_to_float(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  uint32_t mantissa = bits & 0x3ffu;
  uint32_t result;
  if (exponent == 0x1f) {
    // Infinity or NaN (payload kept).
    result = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {
    result = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    result = sign;
  } else {
    // Subnormal half: normalise into a float32 normal number.
    int shift = 0;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      ++shift;
    }
    mantissa &= 0x3ffu;
    result = sign | (static_cast<uint32_t>(113 - shift) << 23) | (mantissa << 13);
  }
  return std::bit_cast<float>(result);
}

float bf16_to_float(uint16_t bits) {
  return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16);
}

std::vector<float> read_floats(const TensorView& view) {
  const size_t count = view.nbytes / dtype_size(view.dtype);
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i) values[i] = static_cast<float>(element_as_double(view, i));
  return values;
}

std::vector<int64_t> read_ints(const TensorView& view) {
  const size_t count = view.nbytes / dtype_size(view.dtype);
  std::vector<int64_t> values(count);
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* p = view.data + i * dtype_size(view.dtype);
    switch (view.dtype) {
      case DType::I64:
        values[i] = load_unaligned<int64_t>(p);
        break;
      case DType::I32:
        values[i] = load_unaligned<int32_t>(p);
        break;
      case DType::I16:
        values[i] = load_unaligned<int16_t>(p);
        break;
      case DType::I8:
        values[i] = load_unaligned<int8_t>(p);
        break;
      case DType::U8:
        values[i] = *p;
        break;
      case DType::BOOL:
        values[i] = *p != 0;
        break;
      default:
        throw std::runtime_error("tensor " + view.name + ": expected an integer dtype, found " +
                                 std::string(dtype_name(view.dtype)));
    }
  }
  return values;
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;

  // Map the whole file read-only.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw file_error(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat status {};
  if (::fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) {
    ::close(fd);
    throw file_error(path, "not a regular file");
  }
  const size_t file_size = static_cast<size_t>(status.st_size);
  if (file_size < 8) {
    ::close(fd);
    throw file_error(path, "file is " + std::to_string(file_size) +
                               " bytes, too short for the 8-byte header length");
  }
  void* mapping = ::mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (mapping == MAP_FAILED)
    throw file_error(path, std::string("mmap failed: ") + std::strerror(errno));
  file->mapping_ = mapping;
  file->mapping_size_ = file_size;
  const auto* bytes = static_cast<const uint8_t*>(mapping);

  // Header length, then the JSON header.
  const uint64_t header_size = load_unaligned<uint64_t>(bytes);
  if (header_size > file_size - 8) {
    throw file_error(path, "header length " + std::to_string(header_size) + " exceeds the " +
                               std::to_string(file_size - 8) + " bytes after the length field");
  }
  if (header_size > kMaxHeaderBytes) {
    throw file_error(path, "header length " + std::to_string(header_size) + " exceeds 100 MiB");
  }
  const std::string_view header_text(reinterpret_cast<const char*>(bytes + 8), header_size);
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(header_text);
  } catch (const nlohmann::json::exception& error) {
    throw file_error(path, std::string("header is not valid JSON: ") + error.what());
  }
  if (!header.is_object()) throw file_error(path, "header is not a JSON object");

  const uint8_t* data_begin = bytes + 8 + header_size;
  const size_t data_size = file_size - 8 - header_size;

  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw file_error(path, "__metadata__ is not a JSON object");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string())
          throw file_error(path, "__metadata__ value of \"" + key + "\" is not a string");
        file->metadata_[key] = value.get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor " + name + ": ";
    if (!entry.is_object()) throw file_error(path, where + "header entry is not a JSON object");
    const auto dtype_it = entry.find("dtype");
    const auto shape_it = entry.find("shape");
    const auto offsets_it = entry.find("data_offsets");
    if (dtype_it == entry.end() || !dtype_it->is_string())
      throw file_error(path, where + "missing or non-string \"dtype\"");
    if (shape_it == entry.end() || !shape_it->is_array())
      throw file_error(path, where + "missing or non-array \"shape\"");
    if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2) {
      throw file_error(path, where + "\"data_offsets\" must be an array of 2 integers");
    }
    TensorView view;
    view.name = name;
    try {
      view.dtype = parse_dtype(dtype_it->get<std::string>());
    } catch (const std::runtime_error& error) {
      throw file_error(path, where + error.what());
    }
    int64_t count = 1;
    for (const auto& dim : *shape_it) {
      if (!dim.is_number_unsigned())
        throw file_error(path, where + "shape entries must be non-negative integers");
      const uint64_t value = dim.get<uint64_t>();
      if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
          (count != 0 &&
           value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max() / count))) {
        throw file_error(path, where + "shape overflows");
      }
      view.shape.push_back(static_cast<int64_t>(value));
      count *= static_cast<int64_t>(value);
    }
    const auto& begin_json = (*offsets_it)[0];
    const auto& end_json = (*offsets_it)[1];
    if (!begin_json.is_number_unsigned() || !end_json.is_number_unsigned()) {
      throw file_error(path, where + "data_offsets must be non-negative integers");
    }
    const uint64_t begin = begin_json.get<uint64_t>();
    const uint64_t end = end_json.get<uint64_t>();
    if (end < begin) {
      throw file_error(path, where + "data_offsets end " + std::to_string(end) + " < begin " +
                                 std::to_string(begin));
    }
    if (end > data_size) {
      throw file_error(path, where + "data_offsets [" + std::to_string(begin) + ", " +
                                 std::to_string(end) + ") lie outside the " +
                                 std::to_string(data_size) + "-byte data section");
    }
    const uint64_t expected = static_cast<uint64_t>(count) * dtype_size(view.dtype);
    if (end - begin != expected) {
      throw file_error(path, where + "holds " + std::to_string(end - begin) + " bytes but shape " +
                                 shape_string(view.shape) + " of " +
                                 std::string(dtype_name(view.dtype)) + " needs " +
                                 std::to_string(expected));
    }
    view.data = data_begin + begin;
    view.nbytes = static_cast<size_t>(end - begin);
    file->tensors_.push_back(std::move(view));
  }

  // Order by offset and reject overlapping byte ranges.
  std::sort(file->tensors_.begin(), file->tensors_.end(),
            [](const TensorView& a, const TensorView& b) { return a.data < b.data; });
  for (size_t i = 1; i < file->tensors_.size(); ++i) {
    const TensorView& previous = file->tensors_[i - 1];
    const TensorView& current = file->tensors_[i];
    if (current.data < previous.data + previous.nbytes) {
      throw file_error(path, "tensors " + previous.name + " and " + current.name +
                                 " overlap in the data section");
    }
  }
  for (size_t i = 0; i < file->tensors_.size(); ++i) file->index_[file->tensors_[i].name] = i;
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (mapping_ != nullptr) ::munmap(mapping_, mapping_size_);
}

const TensorView* SafetensorsFile::find(const std::string& name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

void WeightStore::add_file(std::shared_ptr<const SafetensorsFile> file,
                           const std::vector<std::string>* only) {
  auto add = [&](const TensorView& view) {
    const auto [it, inserted] = by_name_.emplace(view.name, std::make_pair(&view, file.get()));
    if (!inserted) {
      throw std::runtime_error("checkpoint " + source_ + ": tensor " + view.name +
                               " appears in both " + it->second.second->path() + " and " +
                               file->path());
    }
  };
  if (only == nullptr) {
    for (const TensorView& view : file->tensors()) add(view);
  } else {
    for (const std::string& name : *only) {
      const TensorView* view = file->find(name);
      if (view == nullptr) {
        throw std::runtime_error("checkpoint " + source_ + ": the index lists tensor " + name +
                                 " in " + file->path() + ", which does not contain it");
      }
      add(*view);
    }
  }
  files_.push_back(std::move(file));
}

WeightStore WeightStore::open(const std::string& path) {
  namespace fs = std::filesystem;
  WeightStore store;
  store.source_ = path;
  std::error_code error;
  if (!fs::exists(path, error))
    throw std::runtime_error("checkpoint " + path + ": no such file or directory");

  fs::path index_path;
  if (fs::is_directory(path)) {
    if (fs::exists(fs::path(path) / "model.safetensors.index.json")) {
      index_path = fs::path(path) / "model.safetensors.index.json";
    } else {
      // Every .safetensors file in the directory, in name order.
      std::vector<fs::path> files;
      for (const auto& entry : fs::directory_iterator(path)) {
        if (entry.is_regular_file() && entry.path().extension() == ".safetensors")
          files.push_back(entry.path());
      }
      if (files.empty()) {
        throw std::runtime_error(
            "checkpoint " + path +
            ": directory holds neither model.safetensors.index.json nor any .safetensors file");
      }
      std::sort(files.begin(), files.end());
      for (const auto& file : files) store.add_file(SafetensorsFile::open(file.string()), nullptr);
      return store;
    }
  } else if (fs::path(path).extension() == ".json") {
    index_path = path;
  } else {
    store.add_file(SafetensorsFile::open(path), nullptr);
    return store;
  }

  // Sharded checkpoint: {"metadata": {...}, "weight_map": {tensor: shard file}}.
  const std::string index_name = index_path.string();
  std::ifstream stream(index_path);
  if (!stream) throw std::runtime_error("index " + index_name + ": cannot open");
  nlohmann::json index;
  try {
    index = nlohmann::json::parse(stream);
  } catch (const nlohmann::json::exception& parse_error) {
    throw std::runtime_error("index " + index_name + ": not valid JSON: " + parse_error.what());
  }
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
    throw std::runtime_error("index " + index_name + ": missing \"weight_map\" object");
  }
  std::map<std::string, std::vector<std::string>> names_by_shard;
  for (const auto& [name, shard] : index["weight_map"].items()) {
    if (!shard.is_string())
      throw std::runtime_error("index " + index_name + ": weight_map entry " + name +
                               " is not a string");
    const std::string shard_name = shard.get<std::string>();
    if (shard_name.empty() || fs::path(shard_name).is_absolute() ||
        shard_name.find("..") != std::string::npos) {
      throw std::runtime_error("index " + index_name + ": weight_map entry " + name +
                               " names an invalid shard \"" + shard_name + "\"");
    }
    names_by_shard[shard_name].push_back(name);
  }
  if (names_by_shard.empty())
    throw std::runtime_error("index " + index_name + ": weight_map is empty");
  const fs::path directory = index_path.parent_path();
  for (const auto& [shard_name, names] : names_by_shard) {
    const fs::path shard_path = directory / shard_name;
    if (!fs::exists(shard_path)) {
      throw std::runtime_error("index " + index_name + ": shard " + shard_name + " does not exist");
    }
    store.add_file(SafetensorsFile::open(shard_path.string()), &names);
  }
  return store;
}

const TensorView* WeightStore::find(const std::string& name) const {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second.first;
}

std::vector<std::string> WeightStore::names() const {
  std::vector<std::string> names;
  names.reserve(by_name_.size());
  for (const auto& entry : by_name_) names.push_back(entry.first);
  return names;
}

std::string WeightStore::file_of(const std::string& name) const {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? std::string() : it->second.second->path();
}

void write_safetensors(const std::string& path, const std::vector<TensorView>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> seen;
  uint64_t offset = 0;
  for (const TensorView& view : tensors) {
    if (view.name.empty() || view.name == "__metadata__") {
      throw std::runtime_error("write_safetensors " + path + ": invalid tensor name \"" +
                               view.name + "\"");
    }
    if (!seen.insert(view.name).second) {
      throw std::runtime_error("write_safetensors " + path + ": duplicate tensor " + view.name);
    }
    for (int64_t dim : view.shape) {
      if (dim < 0)
        throw std::runtime_error("write_safetensors " + path + ": tensor " + view.name +
                                 " has a negative dimension");
    }
    const uint64_t expected =
        static_cast<uint64_t>(element_count(view.shape)) * dtype_size(view.dtype);
    if (view.nbytes != expected || (view.data == nullptr && expected != 0)) {
      throw std::runtime_error("write_safetensors " + path + ": tensor " + view.name + " has " +
                               std::to_string(view.nbytes) + " bytes, shape " +
                               shape_string(view.shape) + " needs " + std::to_string(expected));
    }
    header[view.name] = {{"dtype", std::string(dtype_name(view.dtype))},
                         {"shape", view.shape},
                         {"data_offsets", {offset, offset + view.nbytes}}};
    offset += view.nbytes;
  }
  std::string header_text = header.dump();
  // Pad with spaces so that the data section starts 8-byte aligned.
  header_text.append((8 - header_text.size() % 8) % 8, ' ');

  std::ofstream stream(path, std::ios::binary | std::ios::trunc);
  if (!stream) throw std::runtime_error("write_safetensors " + path + ": cannot open for writing");
  const uint64_t header_size = header_text.size();
  stream.write(reinterpret_cast<const char*>(&header_size), sizeof(header_size));
  stream.write(header_text.data(), static_cast<std::streamsize>(header_text.size()));
  for (const TensorView& view : tensors) {
    stream.write(reinterpret_cast<const char*>(view.data),
                 static_cast<std::streamsize>(view.nbytes));
  }
  stream.close();
  if (!stream) throw std::runtime_error("write_safetensors " + path + ": write failed");
}

}  // namespace policies::dream_vla
