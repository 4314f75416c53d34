// The openpi wire format: msgpack values with numpy arrays in openpi-client's
// msgpack_numpy encoding, and the mapping between openpi's LIBERO observation
// and action maps and the harness types. Used by the `serve` command and by
// remote-policy clients. No libtorch, no msgpack in this header.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "envs/types.h"
#include "policies/policy.h"

namespace policies::openpi {

// Bad or unsupported input to the codec (malformed msgpack, refused dtype,
// inconsistent shape, missing key). The message names the key and the problem.
class CodecError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A numpy array as msgpack_numpy carries it: raw element bytes in C order.
struct NdArray {
  std::string dtype;           // numpy dtype string, e.g. "<f4", "|u1", "<f8"
  std::vector<int64_t> shape;  // dimensions, outermost first; empty for a 0-d array
  std::vector<uint8_t> data;   // element bytes, C order: element_count() * item size

  int64_t element_count() const;  // product of shape (1 for a 0-d array)
};

// A parsed numpy dtype string ("<f4" -> little-endian, 'f', 4 bytes).
struct DType {
  char byte_order = '|';  // '<' little, '>' big, '|' not applicable, '=' native
  char kind = 'u';        // 'b' bool, 'i' signed, 'u' unsigned, 'f' float
  int item_size = 1;      // bytes per element
};

// Parses and checks a dtype string. Accepts b1, i1/i2/i4/i8, u1/u2/u4/u8, f4/f8 in any
// byte order; refuses object, void and complex dtypes (as openpi does) and all others.
DType parse_dtype(std::string_view dtype);

// A decoded msgpack value: nil, bool, int, float, str, bin, array, map (string keys)
// or ndarray. A numpy scalar ("__npgeneric__") decodes to its plain bool/int/float.
class Value {
 public:
  enum class Kind { kNil, kBool, kInt, kFloat, kString, kBinary, kArray, kMap, kNdArray };

  Value() = default;  // nil
  explicit Value(NdArray array);
  static Value boolean(bool value);
  static Value integer(int64_t value);
  static Value number(double value);
  static Value string(std::string text);
  static Value binary(std::vector<uint8_t> bytes);
  static Value array();  // empty; add items with push_back
  static Value map();    // empty; add entries with set

  Kind kind() const { return kind_; }
  bool is_nil() const { return kind_ == Kind::kNil; }
  // Accessors throw CodecError naming `what` when the kind does not match.
  bool as_bool(std::string_view what = "value") const;
  int64_t as_int(std::string_view what = "value") const;
  double as_number(std::string_view what = "value") const;  // int or float
  const std::string& as_string(std::string_view what = "value") const;
  const std::vector<uint8_t>& as_binary(std::string_view what = "value") const;
  const NdArray& as_ndarray(std::string_view what = "value") const;

  // Arrays and maps: entry count and entries in order (map keys in `key`).
  size_t size() const { return items_.size(); }
  const Value& item(size_t index) const { return items_.at(index); }
  const std::string& key(size_t index) const { return keys_.at(index); }
  Value& push_back(Value value);  // arrays only

  // Maps: lookup by key (nullptr / CodecError "missing key 'K'" when absent).
  const Value* find(std::string_view key) const;
  const Value& at(std::string_view key) const;
  Value& set(std::string key, Value value);  // inserts or replaces; returns the stored value

 private:
  Kind kind_ = Kind::kNil;
  bool bool_ = false;
  int64_t int_ = 0;
  double float_ = 0;
  std::string string_;             // kString
  std::vector<uint8_t> bytes_;     // kBinary
  NdArray ndarray_;                // kNdArray
  std::vector<std::string> keys_;  // kMap: one per item
  std::vector<Value> items_;       // kArray, kMap
};

// Serializes `value` into `out` (cleared first; its capacity is reused). Ndarrays are
// written as msgpack_numpy maps with binary keys, as openpi-client expects.
void encode(const Value& value, std::vector<uint8_t>& out);
std::vector<uint8_t> encode(const Value& value);

// Parses one msgpack message. Throws CodecError on truncated or malformed data,
// trailing bytes, ext types, non-string map keys, nesting deeper than 64, or a
// malformed or refused ndarray / npgeneric.
Value decode(std::span<const uint8_t> bytes);

// Builders for the arrays the harness sends.
NdArray make_float32_array(std::span<const float> values, std::vector<int64_t> shape);
NdArray make_uint8_array(std::span<const uint8_t> values, std::vector<int64_t> shape);

// Converts any accepted numeric dtype to float32 into `out` (resized; capacity reused).
void to_floats(const NdArray& array, std::vector<float>& out);

// openpi's LIBERO example: keys on the wire and the harness camera names they carry.
namespace libero {
inline constexpr std::string_view kImageKey = "observation/image";             // uint8 HxWx3
inline constexpr std::string_view kWristImageKey = "observation/wrist_image";  // uint8 HxWx3
inline constexpr std::string_view kStateKey = "observation/state";             // float (8,)
inline constexpr std::string_view kPromptKey = "prompt";                       // str
inline constexpr std::string_view kActionsKey = "actions";                     // float32 (chunk, 7)
inline constexpr std::string_view kImageCamera = "agentview";
inline constexpr std::string_view kWristImageCamera = "eye_in_hand";
inline constexpr int64_t kStateSize = 8;   // eef pos (3), eef axis-angle (3), finger joints (2)
inline constexpr int64_t kActionSize = 7;  // envs::Action
}  // namespace libero

// Fills `out` (buffers reused) from an openpi LIBERO observation map: images present on
// the wire by camera name, proprio from the state (any numeric dtype, shape (8,)),
// instruction from the prompt. Extra keys are ignored. Every camera in
// `required_cameras` must be present. Images are taken as sent (upright, top row
// first: openpi's LIBERO client already rotates the simulator's render by 180 degrees).
// Leaves `out.step` and `out.privileged` untouched.
void decode_libero_observation(const Value& request, std::span<const std::string> required_cameras,
                               envs::Observation& out);

// The inverse, for clients: images of the LIBERO cameras present, state as float32
// (8,), prompt. Throws CodecError if the proprio is not 8 floats or an image is malformed.
Value encode_libero_observation(const envs::Observation& observation);

// Action chunks: float32 ndarray (chunk, 7) <-> ActionChunk.
NdArray encode_actions(std::span<const envs::Action> actions);
// Reads `reply["actions"]` (any numeric dtype, shape (chunk, 7), chunk >= 1).
ActionChunk decode_actions(const Value& reply);

}  // namespace policies::openpi
