#include "policies/remote/npy.h"

#include <cctype>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace policies::remote {
namespace {

using openpi::CodecError;

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
constexpr size_t kAlignment = 64;  // header end alignment numpy writes

[[noreturn]] void fail(const std::string& problem) { throw CodecError(".npy: " + problem); }

// A cursor over the header's Python literal.
class HeaderReader {
 public:
  explicit HeaderReader(std::string_view text) : text_(text) {}

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool accept(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!accept(c))
      fail(std::string("malformed header: expected '") + c + "' at offset " + std::to_string(pos_) +
           " in " + std::string(text_));
  }
  std::string quoted() {
    skip_space();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
      fail("malformed header: expected a quoted string at offset " + std::to_string(pos_));
    }
    const char quote = text_[pos_++];
    const size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) fail("malformed header: unterminated string");
    std::string value(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return value;
  }
  std::string word() {
    skip_space();
    const size_t start = pos_;
    while (pos_ < text_.size() && std::isalnum(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }
  bool at_end() {
    skip_space();
    return pos_ == text_.size();
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

void encode_npy(const openpi::NdArray& array, std::vector<uint8_t>& out) {
  const openpi::DType dtype = openpi::parse_dtype(array.dtype);
  if (static_cast<uint64_t>(array.element_count()) * dtype.item_size != array.data.size()) {
    fail(std::to_string(array.data.size()) + " data bytes do not match dtype " + array.dtype +
         " and " + std::to_string(array.element_count()) + " elements");
  }
  std::string shape = "(";
  for (size_t i = 0; i < array.shape.size(); ++i) {
    shape += std::to_string(array.shape[i]);
    shape += array.shape.size() == 1 ? "," : (i + 1 < array.shape.size() ? ", " : "");
  }
  shape += ")";
  std::string header =
      "{'descr': '" + array.dtype + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad with spaces so that the data starts on a 64-byte boundary; end with a newline.
  const size_t prefix = kMagicSize + 2 + 2;
  const size_t total = (prefix + header.size() + 1 + kAlignment - 1) / kAlignment * kAlignment;
  header.append(total - prefix - header.size() - 1, ' ');
  header += '\n';
  if (header.size() > std::numeric_limits<uint16_t>::max()) fail("header too long for version 1.0");
  out.clear();
  out.reserve(total + array.data.size());
  out.insert(out.end(), kMagic, kMagic + kMagicSize);
  out.push_back(1);
  out.push_back(0);
  out.push_back(static_cast<uint8_t>(header.size() & 0xff));
  out.push_back(static_cast<uint8_t>(header.size() >> 8));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), array.data.begin(), array.data.end());
}

openpi::NdArray decode_npy(std::span<const uint8_t> bytes) {
  if (bytes.size() < kMagicSize + 4 || std::memcmp(bytes.data(), kMagic, kMagicSize) != 0) {
    fail("not a .npy file (bad magic)");
  }
  const uint8_t major = bytes[kMagicSize];
  size_t header_size = 0;
  size_t offset = kMagicSize + 2;
  if (major == 1) {
    header_size = bytes[offset] | (size_t{bytes[offset + 1]} << 8);
    offset += 2;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < offset + 4) fail("truncated header length");
    header_size = bytes[offset] | (size_t{bytes[offset + 1]} << 8) |
                  (size_t{bytes[offset + 2]} << 16) | (size_t{bytes[offset + 3]} << 24);
    offset += 4;
  } else {
    fail("unsupported format version " + std::to_string(major) + "." +
         std::to_string(bytes[kMagicSize + 1]));
  }
  if (bytes.size() < offset + header_size) fail("truncated header");
  const std::string_view header(reinterpret_cast<const char*>(bytes.data() + offset), header_size);
  offset += header_size;

  // {'descr': '<f4', 'fortran_order': False, 'shape': (16, 7), }
  HeaderReader reader(header);
  std::optional<std::string> descr;
  std::optional<bool> fortran_order;
  std::optional<std::vector<int64_t>> shape;
  reader.expect('{');
  while (!reader.accept('}')) {
    const std::string key = reader.quoted();
    reader.expect(':');
    if (key == "descr") {
      descr = reader.quoted();
    } else if (key == "fortran_order") {
      const std::string value = reader.word();
      if (value != "True" && value != "False") fail("malformed header: fortran_order is " + value);
      fortran_order = value == "True";
    } else if (key == "shape") {
      reader.expect('(');
      std::vector<int64_t> dims;
      while (!reader.accept(')')) {
        const std::string dim = reader.word();
        if (dim.empty() || dim.size() > 10 ||
            dim.find_first_not_of("0123456789") != std::string::npos) {
          fail("malformed header: shape dimension '" + dim + "'");
        }
        dims.push_back(std::stoll(dim));
        if (!reader.accept(',')) {
          reader.expect(')');
          break;
        }
      }
      shape = std::move(dims);
    } else {
      fail("malformed header: unknown key '" + key + "'");
    }
    if (!reader.accept(',')) {
      reader.expect('}');
      break;
    }
  }
  if (!reader.at_end()) fail("malformed header: text after the dict");
  if (!descr || !fortran_order || !shape) {
    fail("header needs 'descr', 'fortran_order' and 'shape': " + std::string(header));
  }
  if (*fortran_order) fail("Fortran-order arrays are not supported (save a C-contiguous array)");

  openpi::NdArray array;
  array.dtype = *descr;
  const openpi::DType dtype = openpi::parse_dtype(array.dtype);
  array.shape = std::move(*shape);
  uint64_t count = 1;
  for (int64_t dim : array.shape) {
    count *= static_cast<uint64_t>(dim);
    if (count > (uint64_t{1} << 40)) fail("shape has too many elements");
  }
  const uint64_t expected = count * dtype.item_size;
  if (bytes.size() - offset != expected) {
    fail(std::to_string(bytes.size() - offset) + " data bytes, but dtype " + array.dtype + " and " +
         std::to_string(count) + " elements need " + std::to_string(expected));
  }
  array.data.assign(bytes.begin() + offset, bytes.end());
  return array;
}

}  // namespace policies::remote
