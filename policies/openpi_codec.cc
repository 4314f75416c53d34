#include "policies/openpi_codec.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <msgpack.hpp>
#include <utility>

namespace policies::openpi {
namespace {

constexpr size_t kMaxDepth = 64;  // nesting limit of a decoded message

const char* kind_name(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::kNil:
      return "nil";
    case Value::Kind::kBool:
      return "bool";
    case Value::Kind::kInt:
      return "int";
    case Value::Kind::kFloat:
      return "float";
    case Value::Kind::kString:
      return "str";
    case Value::Kind::kBinary:
      return "bin";
    case Value::Kind::kArray:
      return "array";
    case Value::Kind::kMap:
      return "map";
    case Value::Kind::kNdArray:
      return "ndarray";
  }
  return "?";
}

[[noreturn]] void wrong_kind(std::string_view what, const char* expected, Value::Kind actual) {
  throw CodecError(std::string(what) + ": expected " + expected + ", got " + kind_name(actual));
}

std::string shape_text(std::span<const int64_t> shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  if (shape.size() == 1) text += ",";
  return text + ")";
}

// Reads element `index` of `array` as float, honouring byte order.
float element_as_float(const uint8_t* data, const DType& dtype, int64_t index) {
  uint8_t bytes[8];
  std::memcpy(bytes, data + index * dtype.item_size, dtype.item_size);
  const bool big_endian = dtype.byte_order == '>';
  if (big_endian != (std::endian::native == std::endian::big)) {
    std::reverse(bytes, bytes + dtype.item_size);
  }
  auto read = [&bytes]<typename T>(T) {
    T value;
    std::memcpy(&value, bytes, sizeof(T));
    return static_cast<float>(value);
  };
  switch (dtype.kind) {
    case 'b':
      return bytes[0] != 0 ? 1.0f : 0.0f;
    case 'i':
      switch (dtype.item_size) {
        case 1:
          return read(int8_t{});
        case 2:
          return read(int16_t{});
        case 4:
          return read(int32_t{});
        default:
          return read(int64_t{});
      }
    case 'u':
      switch (dtype.item_size) {
        case 1:
          return read(uint8_t{});
        case 2:
          return read(uint16_t{});
        case 4:
          return read(uint32_t{});
        default:
          return read(uint64_t{});
      }
    default:
      return dtype.item_size == 4 ? read(float{}) : read(double{});
  }
}

// Looks a key up in a msgpack map given as (key, value) pairs, keys str or bin.
const msgpack::object* find_raw(const msgpack::object& map, std::string_view key) {
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    const msgpack::object& k = map.via.map.ptr[i].key;
    std::string_view name;
    if (k.type == msgpack::type::STR) {
      name = std::string_view(k.via.str.ptr, k.via.str.size);
    } else if (k.type == msgpack::type::BIN) {
      name = std::string_view(k.via.bin.ptr, k.via.bin.size);
    } else {
      continue;
    }
    if (name == key) return &map.via.map.ptr[i].val;
  }
  return nullptr;
}

bool is_true(const msgpack::object* object) {
  return object != nullptr && object->type == msgpack::type::BOOLEAN && object->via.boolean;
}

std::string raw_text(const msgpack::object& object, std::string_view what) {
  if (object.type == msgpack::type::STR)
    return std::string(object.via.str.ptr, object.via.str.size);
  if (object.type == msgpack::type::BIN)
    return std::string(object.via.bin.ptr, object.via.bin.size);
  throw CodecError(std::string(what) + ": expected str or bin");
}

Value convert(const msgpack::object& object, size_t depth);

// {"__ndarray__": true, "data": bin, "dtype": str, "shape": [dims]} -> NdArray.
Value convert_ndarray(const msgpack::object& map) {
  const msgpack::object* data = find_raw(map, "data");
  const msgpack::object* dtype = find_raw(map, "dtype");
  const msgpack::object* shape = find_raw(map, "shape");
  if (data == nullptr || dtype == nullptr || shape == nullptr) {
    throw CodecError("ndarray: needs keys 'data', 'dtype' and 'shape'");
  }
  NdArray array;
  array.dtype = raw_text(*dtype, "ndarray dtype");
  const DType parsed = parse_dtype(array.dtype);
  if (shape->type != msgpack::type::ARRAY) throw CodecError("ndarray shape: expected an array");
  int64_t count = 1;
  for (uint32_t i = 0; i < shape->via.array.size; ++i) {
    const msgpack::object& dim = shape->via.array.ptr[i];
    if (dim.type != msgpack::type::POSITIVE_INTEGER ||
        dim.via.u64 > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
      throw CodecError("ndarray shape: dimension " + std::to_string(i) +
                       " is not a non-negative integer below 2^31");
    }
    array.shape.push_back(static_cast<int64_t>(dim.via.u64));
    count *= array.shape.back();
    if (count > (int64_t{1} << 40)) throw CodecError("ndarray shape: too many elements");
  }
  if (data->type != msgpack::type::BIN && data->type != msgpack::type::STR) {
    throw CodecError("ndarray data: expected bin");
  }
  const char* bytes = data->type == msgpack::type::BIN ? data->via.bin.ptr : data->via.str.ptr;
  const uint64_t size = data->type == msgpack::type::BIN ? data->via.bin.size : data->via.str.size;
  const uint64_t expected = static_cast<uint64_t>(count) * parsed.item_size;
  if (size != expected) {
    throw CodecError("ndarray data: " + std::to_string(size) + " bytes, but dtype " + array.dtype +
                     " and shape " + shape_text(array.shape) + " need " + std::to_string(expected));
  }
  array.data.assign(bytes, bytes + size);
  return Value(std::move(array));
}

// {"__npgeneric__": true, "data": scalar, "dtype": str} -> the plain scalar.
Value convert_npgeneric(const msgpack::object& map, size_t depth) {
  const msgpack::object* data = find_raw(map, "data");
  const msgpack::object* dtype = find_raw(map, "dtype");
  if (data == nullptr || dtype == nullptr)
    throw CodecError("npgeneric: needs keys 'data' and 'dtype'");
  parse_dtype(raw_text(*dtype, "npgeneric dtype"));
  Value value = convert(*data, depth + 1);
  const Value::Kind kind = value.kind();
  if (kind != Value::Kind::kBool && kind != Value::Kind::kInt && kind != Value::Kind::kFloat) {
    throw CodecError(std::string("npgeneric data: expected a number, got ") + kind_name(kind));
  }
  return value;
}

Value convert(const msgpack::object& object, size_t depth) {
  if (depth > kMaxDepth) throw CodecError("msgpack: nesting deeper than 64");
  switch (object.type) {
    case msgpack::type::NIL:
      return Value();
    case msgpack::type::BOOLEAN:
      return Value::boolean(object.via.boolean);
    case msgpack::type::POSITIVE_INTEGER:
      if (object.via.u64 > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Value::number(static_cast<double>(object.via.u64));
      }
      return Value::integer(static_cast<int64_t>(object.via.u64));
    case msgpack::type::NEGATIVE_INTEGER:
      return Value::integer(object.via.i64);
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return Value::number(object.via.f64);
    case msgpack::type::STR:
      return Value::string(std::string(object.via.str.ptr, object.via.str.size));
    case msgpack::type::BIN:
      return Value::binary(
          std::vector<uint8_t>(object.via.bin.ptr, object.via.bin.ptr + object.via.bin.size));
    case msgpack::type::ARRAY: {
      Value array = Value::array();
      for (uint32_t i = 0; i < object.via.array.size; ++i) {
        array.push_back(convert(object.via.array.ptr[i], depth + 1));
      }
      return array;
    }
    case msgpack::type::MAP: {
      if (is_true(find_raw(object, "__ndarray__"))) return convert_ndarray(object);
      if (is_true(find_raw(object, "__npgeneric__"))) return convert_npgeneric(object, depth);
      Value map = Value::map();
      for (uint32_t i = 0; i < object.via.map.size; ++i) {
        const msgpack::object& key = object.via.map.ptr[i].key;
        if (key.type != msgpack::type::STR && key.type != msgpack::type::BIN) {
          throw CodecError("msgpack: map keys must be str or bin");
        }
        std::string name = raw_text(key, "map key");
        Value value;
        try {
          value = convert(object.via.map.ptr[i].val, depth + 1);
        } catch (const CodecError& error) {
          throw CodecError("'" + name + "': " + error.what());
        }
        map.set(std::move(name), std::move(value));
      }
      return map;
    }
    case msgpack::type::EXT:
      throw CodecError("msgpack: ext types are not supported");
  }
  throw CodecError("msgpack: unknown object type");
}

// A msgpack stream that appends to a byte vector.
struct ByteWriter {
  std::vector<uint8_t>& out;
  void write(const char* data, size_t size) { out.insert(out.end(), data, data + size); }
};

void pack_key(msgpack::packer<ByteWriter>& packer, std::string_view key, bool binary) {
  if (binary) {
    packer.pack_bin(static_cast<uint32_t>(key.size()));
    packer.pack_bin_body(key.data(), static_cast<uint32_t>(key.size()));
  } else {
    packer.pack_str(static_cast<uint32_t>(key.size()));
    packer.pack_str_body(key.data(), static_cast<uint32_t>(key.size()));
  }
}

void pack(msgpack::packer<ByteWriter>& packer, const Value& value) {
  switch (value.kind()) {
    case Value::Kind::kNil:
      packer.pack_nil();
      return;
    case Value::Kind::kBool:
      if (value.as_bool()) {
        packer.pack_true();
      } else {
        packer.pack_false();
      }
      return;
    case Value::Kind::kInt:
      packer.pack_int64(value.as_int());
      return;
    case Value::Kind::kFloat:
      packer.pack_double(value.as_number());
      return;
    case Value::Kind::kString:
      pack_key(packer, value.as_string(), false);
      return;
    case Value::Kind::kBinary: {
      const std::vector<uint8_t>& bytes = value.as_binary();
      packer.pack_bin(static_cast<uint32_t>(bytes.size()));
      packer.pack_bin_body(reinterpret_cast<const char*>(bytes.data()),
                           static_cast<uint32_t>(bytes.size()));
      return;
    }
    case Value::Kind::kArray:
      packer.pack_array(static_cast<uint32_t>(value.size()));
      for (size_t i = 0; i < value.size(); ++i) pack(packer, value.item(i));
      return;
    case Value::Kind::kMap:
      packer.pack_map(static_cast<uint32_t>(value.size()));
      for (size_t i = 0; i < value.size(); ++i) {
        pack_key(packer, value.key(i), false);
        pack(packer, value.item(i));
      }
      return;
    case Value::Kind::kNdArray: {
      // Same keys, order and key type (bytes) as openpi-client's msgpack_numpy.
      const NdArray& array = value.as_ndarray();
      const DType dtype = parse_dtype(array.dtype);
      if (static_cast<uint64_t>(array.element_count()) * dtype.item_size != array.data.size()) {
        throw CodecError("ndarray: " + std::to_string(array.data.size()) + " bytes, but dtype " +
                         array.dtype + " and shape " + shape_text(array.shape) + " need " +
                         std::to_string(array.element_count() * dtype.item_size));
      }
      packer.pack_map(4);
      pack_key(packer, "__ndarray__", true);
      packer.pack_true();
      pack_key(packer, "data", true);
      packer.pack_bin(static_cast<uint32_t>(array.data.size()));
      packer.pack_bin_body(reinterpret_cast<const char*>(array.data.data()),
                           static_cast<uint32_t>(array.data.size()));
      pack_key(packer, "dtype", true);
      pack_key(packer, array.dtype, false);
      pack_key(packer, "shape", true);
      packer.pack_array(static_cast<uint32_t>(array.shape.size()));
      for (int64_t dim : array.shape) packer.pack_int64(dim);
      return;
    }
  }
}

// Checks an image ndarray (uint8 HxWx3) and copies it into `image`.
void decode_image(const Value& value, std::string_view key, envs::Image& image) {
  const NdArray& array = value.as_ndarray(key);
  const DType dtype = parse_dtype(array.dtype);
  if (dtype.kind != 'u' || dtype.item_size != 1 || array.shape.size() != 3 || array.shape[2] != 3 ||
      array.shape[0] == 0 || array.shape[1] == 0) {
    throw CodecError(std::string(key) + ": expected a uint8 image of shape (H, W, 3), got dtype " +
                     array.dtype + " shape " + shape_text(array.shape));
  }
  image.height = static_cast<int>(array.shape[0]);
  image.width = static_cast<int>(array.shape[1]);
  image.pixels.assign(array.data.begin(), array.data.end());
}

}  // namespace

int64_t NdArray::element_count() const {
  int64_t count = 1;
  for (int64_t dim : shape) count *= dim;
  return count;
}

DType parse_dtype(std::string_view text) {
  DType dtype;
  std::string_view rest = text;
  if (!rest.empty() && (rest[0] == '<' || rest[0] == '>' || rest[0] == '|' || rest[0] == '=')) {
    dtype.byte_order = rest[0];
    rest.remove_prefix(1);
  }
  if (!rest.empty() && (rest[0] == 'O' || rest[0] == 'V' || rest[0] == 'c')) {
    throw CodecError("dtype '" + std::string(text) +
                     "' (object, void or complex) is not supported");
  }
  if (rest.size() < 2)
    throw CodecError("dtype '" + std::string(text) + "' is not a numpy dtype string");
  dtype.kind = rest[0];
  const std::string_view size = rest.substr(1);
  const bool supported = (dtype.kind == 'b' && size == "1") ||
                         ((dtype.kind == 'i' || dtype.kind == 'u') &&
                          (size == "1" || size == "2" || size == "4" || size == "8")) ||
                         (dtype.kind == 'f' && (size == "4" || size == "8"));
  if (!supported) {
    throw CodecError("dtype '" + std::string(text) +
                     "' is not supported (use bool, int8-64, uint8-64, float32 or float64)");
  }
  dtype.item_size = size[0] - '0';
  return dtype;
}

Value::Value(NdArray array) : kind_(Kind::kNdArray), ndarray_(std::move(array)) {}

Value Value::boolean(bool value) {
  Value result;
  result.kind_ = Kind::kBool;
  result.bool_ = value;
  return result;
}

Value Value::integer(int64_t value) {
  Value result;
  result.kind_ = Kind::kInt;
  result.int_ = value;
  return result;
}

Value Value::number(double value) {
  Value result;
  result.kind_ = Kind::kFloat;
  result.float_ = value;
  return result;
}

Value Value::string(std::string text) {
  Value result;
  result.kind_ = Kind::kString;
  result.string_ = std::move(text);
  return result;
}

Value Value::binary(std::vector<uint8_t> bytes) {
  Value result;
  result.kind_ = Kind::kBinary;
  result.bytes_ = std::move(bytes);
  return result;
}

Value Value::array() {
  Value result;
  result.kind_ = Kind::kArray;
  return result;
}

Value Value::map() {
  Value result;
  result.kind_ = Kind::kMap;
  return result;
}

bool Value::as_bool(std::string_view what) const {
  if (kind_ != Kind::kBool) wrong_kind(what, "bool", kind_);
  return bool_;
}

int64_t Value::as_int(std::string_view what) const {
  if (kind_ != Kind::kInt) wrong_kind(what, "int", kind_);
  return int_;
}

double Value::as_number(std::string_view what) const {
  if (kind_ == Kind::kInt) return static_cast<double>(int_);
  if (kind_ != Kind::kFloat) wrong_kind(what, "number", kind_);
  return float_;
}

const std::string& Value::as_string(std::string_view what) const {
  if (kind_ != Kind::kString) wrong_kind(what, "str", kind_);
  return string_;
}

const std::vector<uint8_t>& Value::as_binary(std::string_view what) const {
  if (kind_ != Kind::kBinary) wrong_kind(what, "bin", kind_);
  return bytes_;
}

const NdArray& Value::as_ndarray(std::string_view what) const {
  if (kind_ != Kind::kNdArray) wrong_kind(what, "ndarray", kind_);
  return ndarray_;
}

Value& Value::push_back(Value value) {
  if (kind_ != Kind::kArray) wrong_kind("push_back", "array", kind_);
  items_.push_back(std::move(value));
  return items_.back();
}

const Value* Value::find(std::string_view key) const {
  if (kind_ != Kind::kMap) return nullptr;
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i] == key) return &items_[i];
  }
  return nullptr;
}

const Value& Value::at(std::string_view key) const {
  if (kind_ != Kind::kMap) wrong_kind("message", "map", kind_);
  const Value* value = find(key);
  if (value == nullptr) throw CodecError("missing key '" + std::string(key) + "'");
  return *value;
}

Value& Value::set(std::string key, Value value) {
  if (kind_ != Kind::kMap) wrong_kind("set", "map", kind_);
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i] == key) return items_[i] = std::move(value);
  }
  keys_.push_back(std::move(key));
  items_.push_back(std::move(value));
  return items_.back();
}

void encode(const Value& value, std::vector<uint8_t>& out) {
  out.clear();
  ByteWriter writer{out};
  msgpack::packer<ByteWriter> packer(writer);
  pack(packer, value);
}

std::vector<uint8_t> encode(const Value& value) {
  std::vector<uint8_t> out;
  encode(value, out);
  return out;
}

Value decode(std::span<const uint8_t> bytes) {
  if (bytes.empty()) throw CodecError("msgpack: empty message");
  // Limits: no container can hold more entries than the message has bytes.
  const msgpack::unpack_limit limit(bytes.size(), bytes.size(), bytes.size(), bytes.size(),
                                    bytes.size(), kMaxDepth);
  // Strings and binaries refer to `bytes` instead of being copied twice.
  const auto reference = [](msgpack::type::object_type, std::size_t, void*) { return true; };
  size_t offset = 0;
  msgpack::object_handle handle;
  try {
    handle = msgpack::unpack(reinterpret_cast<const char*>(bytes.data()), bytes.size(), offset,
                             reference, nullptr, limit);
  } catch (const msgpack::insufficient_bytes&) {
    throw CodecError("msgpack: truncated message (" + std::to_string(bytes.size()) + " bytes)");
  } catch (const msgpack::size_overflow& error) {
    throw CodecError(std::string("msgpack: malformed message (") + error.what() + ")");
  } catch (const msgpack::parse_error& error) {
    throw CodecError(std::string("msgpack: malformed message (") + error.what() + ")");
  } catch (const std::bad_alloc&) {
    throw CodecError("msgpack: malformed message (allocation failed)");
  }
  if (offset != bytes.size()) {
    throw CodecError("msgpack: " + std::to_string(bytes.size() - offset) +
                     " trailing bytes after the message (not a single msgpack value)");
  }
  return convert(handle.get(), 0);
}

NdArray make_float32_array(std::span<const float> values, std::vector<int64_t> shape) {
  NdArray array;
  array.dtype = std::endian::native == std::endian::little ? "<f4" : ">f4";
  array.shape = std::move(shape);
  if (array.element_count() != static_cast<int64_t>(values.size())) {
    throw CodecError("make_float32_array: " + std::to_string(values.size()) +
                     " values do not fill shape " + shape_text(array.shape));
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(values.data());
  array.data.assign(bytes, bytes + values.size_bytes());
  return array;
}

NdArray make_uint8_array(std::span<const uint8_t> values, std::vector<int64_t> shape) {
  NdArray array;
  array.dtype = "|u1";
  array.shape = std::move(shape);
  if (array.element_count() != static_cast<int64_t>(values.size())) {
    throw CodecError("make_uint8_array: " + std::to_string(values.size()) +
                     " values do not fill shape " + shape_text(array.shape));
  }
  array.data.assign(values.begin(), values.end());
  return array;
}

void to_floats(const NdArray& array, std::vector<float>& out) {
  const DType dtype = parse_dtype(array.dtype);
  const int64_t count = array.element_count();
  if (static_cast<uint64_t>(count) * dtype.item_size != array.data.size()) {
    throw CodecError("ndarray: data size does not match dtype " + array.dtype + " and shape " +
                     shape_text(array.shape));
  }
  out.resize(count);
  for (int64_t i = 0; i < count; ++i) out[i] = element_as_float(array.data.data(), dtype, i);
}

void decode_libero_observation(const Value& request, std::span<const std::string> required_cameras,
                               envs::Observation& out) {
  if (request.kind() != Value::Kind::kMap) {
    throw CodecError(std::string("observation: expected a msgpack map, got ") +
                     kind_name(request.kind()));
  }
  // Images present on the wire, by camera name; images of earlier requests are kept
  // only for cameras sent again, so their buffers are reused.
  const std::pair<std::string_view, std::string_view> cameras[] = {
      {libero::kImageKey, libero::kImageCamera},
      {libero::kWristImageKey, libero::kWristImageCamera}};
  for (const auto& [key, camera] : cameras) {
    const Value* image = request.find(key);
    if (image != nullptr) {
      decode_image(*image, key, out.images[std::string(camera)]);
    } else if (auto it = out.images.find(std::string(camera)); it != out.images.end()) {
      out.images.erase(it);
    }
  }
  for (const std::string& camera : required_cameras) {
    const auto match = std::find_if(std::begin(cameras), std::end(cameras),
                                    [&](const auto& entry) { return entry.second == camera; });
    if (match == std::end(cameras)) {
      throw CodecError("camera '" + camera + "' has no key in openpi's LIBERO observation");
    }
    if (!out.images.contains(camera)) {
      throw CodecError("missing key '" + std::string(match->first) + "' (camera '" + camera +
                       "', read by the policy)");
    }
  }

  const NdArray& state = request.at(libero::kStateKey).as_ndarray(libero::kStateKey);
  if (state.shape.size() != 1 || state.shape[0] != libero::kStateSize) {
    throw CodecError(std::string(libero::kStateKey) + ": expected shape (8,), got " +
                     shape_text(state.shape));
  }
  to_floats(state, out.proprio);
  out.instruction = request.at(libero::kPromptKey).as_string(libero::kPromptKey);
}

Value encode_libero_observation(const envs::Observation& observation) {
  if (static_cast<int64_t>(observation.proprio.size()) != libero::kStateSize) {
    throw CodecError("observation proprio: expected 8 values, got " +
                     std::to_string(observation.proprio.size()));
  }
  Value request = Value::map();
  const std::pair<std::string_view, std::string_view> cameras[] = {
      {libero::kImageKey, libero::kImageCamera},
      {libero::kWristImageKey, libero::kWristImageCamera}};
  for (const auto& [key, camera] : cameras) {
    const auto it = observation.images.find(std::string(camera));
    if (it == observation.images.end()) continue;
    const envs::Image& image = it->second;
    if (image.pixels.size() != static_cast<size_t>(image.width) * image.height * 3) {
      throw CodecError("image '" + std::string(camera) +
                       "': " + std::to_string(image.pixels.size()) + " bytes do not match " +
                       std::to_string(image.width) + "x" + std::to_string(image.height) + "x3");
    }
    request.set(std::string(key),
                Value(make_uint8_array(image.pixels, {image.height, image.width, 3})));
  }
  request.set(std::string(libero::kStateKey),
              Value(make_float32_array(observation.proprio, {libero::kStateSize})));
  request.set(std::string(libero::kPromptKey), Value::string(observation.instruction));
  return request;
}

NdArray encode_actions(std::span<const envs::Action> actions) {
  static_assert(sizeof(envs::Action) == libero::kActionSize * sizeof(float));
  const std::span<const float> values(actions.empty() ? nullptr : actions.front().data(),
                                      actions.size() * libero::kActionSize);
  return make_float32_array(values, {static_cast<int64_t>(actions.size()), libero::kActionSize});
}

ActionChunk decode_actions(const Value& reply) {
  const NdArray& array = reply.at(libero::kActionsKey).as_ndarray(libero::kActionsKey);
  if (array.shape.size() != 2 || array.shape[0] < 1 || array.shape[1] != libero::kActionSize) {
    throw CodecError(std::string(libero::kActionsKey) + ": expected shape (chunk, 7), got " +
                     shape_text(array.shape));
  }
  std::vector<float> values;
  to_floats(array, values);
  ActionChunk chunk(array.shape[0]);
  for (size_t i = 0; i < chunk.size(); ++i) {
    std::copy_n(values.begin() + i * libero::kActionSize, libero::kActionSize, chunk[i].begin());
  }
  return chunk;
}

}  // namespace policies::openpi
