// Safetensors files and checkpoints (one file, or shards listed in an index).
// Free of libtorch: weights.h turns TensorViews into tensors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace policies::dream_vla {

// Element types of the safetensors format that this project reads and writes.
enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

// Name as written in a safetensors header ("F32", "BF16", ...).
std::string_view dtype_name(DType dtype);
// Bytes per element.
size_t dtype_size(DType dtype);
// Parses a header dtype string; throws std::runtime_error naming it if unknown.
DType parse_dtype(std::string_view name);

// One tensor inside a mapped file (or inside caller memory when writing).
struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // little-endian, row-major; not necessarily aligned
  size_t nbytes = 0;              // product(shape) * dtype_size(dtype)
};

// Product of a shape (1 for a scalar).
int64_t element_count(const std::vector<int64_t>& shape);
// "[2, 3]".
std::string shape_string(const std::vector<int64_t>& shape);

// Element values converted to float (float types, integers, bool).
std::vector<float> read_floats(const TensorView& view);
// Element values converted to int64 (integer and bool types only).
std::vector<int64_t> read_ints(const TensorView& view);
// IEEE half and bfloat16 bit patterns to float (exact).
float half_to_float(uint16_t bits);
float bf16_to_float(uint16_t bits);

// A read-only, memory-mapped safetensors file. Every header problem throws
// std::runtime_error naming the file and the problem.
class SafetensorsFile {
 public:
  static std::unique_ptr<SafetensorsFile> open(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  // nullptr if absent.
  const TensorView* find(const std::string& name) const;
  // In header order of data offsets.
  const std::vector<TensorView>& tensors() const { return tensors_; }
  // The header's "__metadata__" map (string to string).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& path() const { return path_; }

 private:
  SafetensorsFile() = default;

  std::string path_;
  void* mapping_ = nullptr;  // whole file, PROT_READ
  size_t mapping_size_ = 0;  // bytes
  std::vector<TensorView> tensors_;
  std::map<std::string, size_t> index_;  // name -> position in tensors_
  std::map<std::string, std::string> metadata_;
};

// A checkpoint's weights: one .safetensors file, a directory holding
// model.safetensors.index.json (shards), a directory of .safetensors files, or
// an index .json file itself. Copies share the mapped files.
class WeightStore {
 public:
  static WeightStore open(const std::string& path);

  // nullptr if absent.
  const TensorView* find(const std::string& name) const;
  // Sorted.
  std::vector<std::string> names() const;
  // The path given to open(), for error messages.
  const std::string& source() const { return source_; }
  // The file holding `name` ("" if absent).
  std::string file_of(const std::string& name) const;

 private:
  std::string source_;
  std::vector<std::shared_ptr<const SafetensorsFile>> files_;
  std::map<std::string, std::pair<const TensorView*, const SafetensorsFile*>> by_name_;

  void add_file(std::shared_ptr<const SafetensorsFile> file, const std::vector<std::string>* only);
};

// Writes `tensors` (data copied from each view) to `path` in safetensors
// format, with an optional "__metadata__" map. Throws on inconsistent views,
// duplicate names or I/O failure.
void write_safetensors(const std::string& path, const std::vector<TensorView>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace policies::dream_vla
