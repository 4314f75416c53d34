// Safetensors reading/writing, sharded checkpoints, the weight loader, and
// clear errors on malformed checkpoint files.
#include "torch_doctest.h"  // first: libtorch's CHECK macros give way to doctest's
#include "policies/dream_vla/weights.h"
#include "policies/dream_vla/postprocess.h"
#include "policies/dream_vla/train.h"
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "policies/dream_vla/postprocess.h"
#include "policies/dream_vla/safetensors.h"
#include "policies/dream_vla/tokenizer.h"

namespace fs = std::filesystem;
using namespace policies::dream_vla;

namespace {

const std::string kFixtures = std::string(VLA_TEST_DATA_DIR) + "/dream_tiny";

// A fresh, empty directory under the system temp dir, removed at scope exit.
struct ScratchDir {
  fs::path path;
  ScratchDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("vla_io_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// Writes an 8-byte length, `header` and `data` bytes.
void write_raw(const std::string& path, const std::string& header, size_t data_bytes,
               uint64_t declared_length = 0) {
  std::ofstream out(path, std::ios::binary);
  const uint64_t length = declared_length != 0 ? declared_length : header.size();
  out.write(reinterpret_cast<const char*>(&length), 8);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  const std::string data(data_bytes, '\x01');
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// The message of the std::runtime_error thrown by `body` ("" if none).
template <typename Body>
std::string error_of(Body&& body) {
  try {
    body();
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TensorView view_of(const std::string& name, DType dtype, std::vector<int64_t> shape,
                   const void* data) {
  TensorView view;
  view.name = name;
  view.dtype = dtype;
  view.shape = std::move(shape);
  view.data = static_cast<const uint8_t*>(data);
  view.nbytes = static_cast<size_t>(element_count(view.shape)) * dtype_size(dtype);
  return view;
}

}  // namespace

TEST_CASE("safetensors: reads the fixture header and data") {
  const auto file = SafetensorsFile::open(kFixtures + "/vision.safetensors");
  const TensorView* pixels = file->find("pixel_values");
  REQUIRE(pixels != nullptr);
  CHECK(pixels->dtype == DType::F32);
  CHECK((pixels->shape == std::vector<int64_t>{64, 1176}));
  CHECK(pixels->nbytes == 64u * 1176u * 4u);
  const TensorView* image = file->find("image1");
  REQUIRE(image != nullptr);
  CHECK(image->dtype == DType::U8);
  CHECK((image->shape == std::vector<int64_t>{84, 112, 3}));
  const TensorView* grid = file->find("image_grid_thw");
  REQUIRE(grid != nullptr);
  CHECK((read_ints(*grid) == std::vector<int64_t>{1, 4, 4, 1, 6, 8}));
  CHECK(file->find("no_such_tensor") == nullptr);
  CHECK(file->tensors().size() > 40);
}

TEST_CASE("safetensors: write then read round trip keeps bytes, shapes and metadata") {
  ScratchDir dir;
  const std::vector<float> floats = {1.5f, -2.25f, 3.0f, 0.0f, 1e-30f, -7.0f};
  const std::vector<int64_t> ints = {1, -2, 3};
  const std::vector<uint8_t> bytes = {0, 255, 7};
  write_safetensors(dir.file("a.safetensors"),
                    {view_of("x", DType::F32, {2, 3}, floats.data()),
                     view_of("ids", DType::I64, {3}, ints.data()),
                     view_of("scalar_bytes", DType::U8, {3}, bytes.data())},
                    {{"format", "pt"}});
  const auto file = SafetensorsFile::open(dir.file("a.safetensors"));
  CHECK(file->metadata().at("format") == "pt");
  CHECK(read_floats(*file->find("x")) == floats);
  CHECK(read_ints(*file->find("ids")) == ints);
  CHECK(std::memcmp(file->find("scalar_bytes")->data, bytes.data(), 3) == 0);
  // Data section starts 8-byte aligned.
  uint64_t header_length = 0;
  std::ifstream in(dir.file("a.safetensors"), std::ios::binary);
  in.read(reinterpret_cast<char*>(&header_length), 8);
  CHECK(header_length % 8 == 0);
}

TEST_CASE("safetensors: bf16 and f16 conversion is exact on known values") {
  // (bits, value) pairs.
  const std::vector<std::pair<uint16_t, float>> bf16 = {
      {0x3F80, 1.0f},
      {0xC000, -2.0f},
      {0x3E20, 0.15625f},
      {0x4049, 3.140625f},
      {0x0000, 0.0f},
      {0x7F80, std::numeric_limits<float>::infinity()},
      {0x0001, std::ldexp(1.0f, -133)},
      {0x4780, 65536.0f}};
  const std::vector<std::pair<uint16_t, float>> f16 = {
      {0x3C00, 1.0f},
      {0xC000, -2.0f},
      {0x3555, 0.333251953125f},
      {0x7BFF, 65504.0f},
      {0x0001, std::ldexp(1.0f, -24)},
      {0x03FF, std::ldexp(1023.0f, -24)},
      {0x8000, -0.0f},
      {0xFC00, -std::numeric_limits<float>::infinity()},
      {0x0400, std::ldexp(1.0f, -14)}};
  for (const auto& [bits, value] : bf16) CHECK(bf16_to_float(bits) == value);
  for (const auto& [bits, value] : f16) CHECK(half_to_float(bits) == value);
  CHECK(std::signbit(half_to_float(0x8000)));
  CHECK(std::isnan(half_to_float(0x7E00)));
  CHECK(std::isnan(bf16_to_float(0x7FC0)));

  // The same values through files and to_tensor in float32, and torch's own conversion.
  std::vector<uint16_t> bf16_bits, f16_bits;
  std::vector<float> bf16_values, f16_values;
  for (const auto& [bits, value] : bf16) bf16_bits.push_back(bits), bf16_values.push_back(value);
  for (const auto& [bits, value] : f16) f16_bits.push_back(bits), f16_values.push_back(value);
  ScratchDir dir;
  const int64_t nb = static_cast<int64_t>(bf16_bits.size()),
                nh = static_cast<int64_t>(f16_bits.size());
  write_safetensors(dir.file("half.safetensors"),
                    {view_of("b", DType::BF16, {nb}, bf16_bits.data()),
                     view_of("h", DType::F16, {nh}, f16_bits.data())});
  const auto file = SafetensorsFile::open(dir.file("half.safetensors"));
  CHECK(read_floats(*file->find("b")) == bf16_values);
  CHECK(read_floats(*file->find("h")) == f16_values);
  const torch::Tensor b = to_tensor(*file->find("b"), torch::kFloat32, torch::kCPU);
  const torch::Tensor h = to_tensor(*file->find("h"), torch::kFloat32, torch::kCPU);
  CHECK((b.scalar_type() == torch::kFloat32));
  CHECK(std::vector<float>(b.data_ptr<float>(), b.data_ptr<float>() + nb) == bf16_values);
  CHECK(std::vector<float>(h.data_ptr<float>(), h.data_ptr<float>() + nh) == f16_values);
  // A bf16 run dtype keeps the stored bits.
  const torch::Tensor b16 = to_tensor(*file->find("b"), torch::kBFloat16, torch::kCPU);
  CHECK(std::memcmp(b16.data_ptr(), bf16_bits.data(), bf16_bits.size() * 2) == 0);
}

TEST_CASE("safetensors: malformed files give one clear error naming file and problem") {
  ScratchDir dir;
  const std::string path = dir.file("bad.safetensors");
  const std::string good_entry = R"("w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]})";

  SUBCASE("too short for the length field") {
    std::ofstream(path, std::ios::binary) << "abc";
    const std::string error = error_of([&] { SafetensorsFile::open(path); });
    CHECK(contains(error, path));
    CHECK(contains(error, "too short"));
  }
  SUBCASE("header length beyond the file") {
    write_raw(path, "{" + good_entry + "}", 16, 1u << 20);
    const std::string error = error_of([&] { SafetensorsFile::open(path); });
    CHECK(contains(error, path));
    CHECK(contains(error, "header length 1048576 exceeds"));
  }
  SUBCASE("header is not JSON") {
    write_raw(path, "{\"w\": [1, 2", 16);
    CHECK(contains(error_of([&] { SafetensorsFile::open(path); }), "header is not valid JSON"));
  }
  SUBCASE("offsets outside the data section") {
    write_raw(path, R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[16,32]}})", 16);
    const std::string error = error_of([&] { SafetensorsFile::open(path); });
    CHECK(contains(error, "tensor w"));
    CHECK(contains(error, "outside the 16-byte data section"));
  }
  SUBCASE("truncated file") {
    write_raw(path, "{" + good_entry + "}", 10);
    CHECK(contains(error_of([&] { SafetensorsFile::open(path); }),
                   "outside the 10-byte data section"));
  }
  SUBCASE("end before begin") {
    write_raw(path, R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", 16);
    CHECK(contains(error_of([&] { SafetensorsFile::open(path); }), "end 4 < begin 8"));
  }
  SUBCASE("size does not match the shape") {
    write_raw(path, R"({"w":{"dtype":"F32","shape":[3,2],"data_offsets":[0,16]}})", 16);
    CHECK(contains(error_of([&] { SafetensorsFile::open(path); }),
                   "holds 16 bytes but shape [3, 2] of F32 needs 24"));
  }
  SUBCASE("overlapping tensors") {
    write_raw(
        path,
        R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
        16);
    CHECK(contains(error_of([&] { SafetensorsFile::open(path); }), "tensors a and b overlap"));
  }
  SUBCASE("unknown dtype is named") {
    write_raw(path, R"({"w":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}})", 4);
    const std::string error = error_of([&] { SafetensorsFile::open(path); });
    CHECK(contains(error, "tensor w"));
    CHECK(contains(error, "unknown dtype \"F8_E4M3\""));
  }
  SUBCASE("wrong field types") {
    write_raw(path, R"({"w":{"dtype":"F32","shape":"2x2","data_offsets":[0,16]}})", 16);
    CHECK(contains(error_of([&] { SafetensorsFile::open(path); }), "non-array \"shape\""));
    write_raw(path, R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0]}})", 16);
    CHECK(contains(error_of([&] { SafetensorsFile::open(path); }), "array of 2 integers"));
    write_raw(path, R"({"__metadata__":{"format":1}})", 0);
    CHECK(contains(error_of([&] { SafetensorsFile::open(path); }),
                   "__metadata__ value of \"format\""));
  }
  SUBCASE("missing file") {
    CHECK(contains(error_of([&] { SafetensorsFile::open(dir.file("absent.safetensors")); }),
                   "cannot open"));
    CHECK(contains(error_of([&] { WeightStore::open(dir.file("absent")); }),
                   "no such file or directory"));
  }
}

TEST_CASE("weights: to_tensor copies unaligned and aligned data without aliasing the mapping") {
  ScratchDir dir;
  const std::string path = dir.file("unaligned.safetensors");
  // A 61-byte header puts the data at file offset 69: not 4-byte aligned.
  const std::string header = R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";
  REQUIRE(header.size() % 4 != 0);
  write_raw(path, header, 16);
  const auto file = SafetensorsFile::open(path);
  const TensorView* view = file->find("w");
  REQUIRE(reinterpret_cast<uintptr_t>(view->data) % 4 != 0);
  const torch::Tensor unaligned = to_tensor(*view, torch::kFloat32, torch::kCPU);
  const std::vector<float> expected = read_floats(*view);
  CHECK(std::memcmp(unaligned.data_ptr<float>(), expected.data(), 16) == 0);

  const auto fixture = SafetensorsFile::open(kFixtures + "/lm.safetensors");
  const TensorView* norm = fixture->find("model.norm.weight");
  REQUIRE(reinterpret_cast<uintptr_t>(norm->data) % 4 == 0);
  torch::Tensor aligned = to_tensor(*norm, torch::kFloat32, torch::kCPU);
  CHECK(aligned.data_ptr() != static_cast<const void*>(norm->data));
  aligned.fill_(0);  // writable: a private copy
  CHECK(read_floats(*norm)[0] != 0.0f);
}

TEST_CASE("weights: sharded checkpoint round trip through model.safetensors.index.json") {
  ScratchDir dir;
  const torch::Tensor a = torch::arange(12, torch::kFloat32).reshape({3, 4});
  const torch::Tensor b = torch::linspace(-1, 1, 5).to(torch::kBFloat16);
  const torch::Tensor c = torch::tensor({7, 8, 9}, torch::kInt64);
  write_safetensors(dir.file("model-00001-of-00002.safetensors"),
                    views_of({{"layer.a", a}, {"layer.b", b}}), {{"format", "pt"}});
  write_safetensors(dir.file("model-00002-of-00002.safetensors"), views_of({{"head.c", c}}));
  std::ofstream(dir.file("model.safetensors.index.json"))
      << R"({"metadata":{"total_size":74},"weight_map":{"layer.a":"model-00001-of-00002.safetensors",
            "layer.b":"model-00001-of-00002.safetensors","head.c":"model-00002-of-00002.safetensors"}})";

  const WeightStore store = WeightStore::open(dir.path.string());
  CHECK((store.names() == std::vector<std::string>{"head.c", "layer.a", "layer.b"}));
  CHECK(contains(store.file_of("head.c"), "model-00002-of-00002.safetensors"));

  WeightLoader loader(store, torch::kFloat32, torch::kCPU);
  WeightLoader layer = loader.sub("layer");
  CHECK(layer.has("a"));
  CHECK_FALSE(layer.has("c"));
  CHECK(torch::equal(layer.get("a", {3, 4}), a));
  CHECK(torch::equal(layer.get("b", {-1}), b.to(torch::kFloat32)));
  CHECK((loader.unused() == std::vector<std::string>{"head.c"}));
  CHECK(layer.unused().empty());
  const torch::Tensor ids = loader.get("head.c", {3});
  CHECK((ids.scalar_type() == torch::kInt64));
  CHECK(torch::equal(ids, c));
  CHECK(loader.unused().empty());
  // Same result when the index file itself is given.
  CHECK(WeightStore::open(dir.file("model.safetensors.index.json")).names().size() == 3);
}

TEST_CASE("weights: malformed index.json gives a clear error") {
  ScratchDir dir;
  const std::vector<float> values = {1, 2};
  write_safetensors(dir.file("shard.safetensors"), {view_of("w", DType::F32, {2}, values.data())});
  const std::string index = dir.file("model.safetensors.index.json");
  auto open_error = [&] { return error_of([&] { WeightStore::open(dir.path.string()); }); };

  std::ofstream(index) << "{ not json";
  CHECK(contains(open_error(), "not valid JSON"));
  CHECK(contains(open_error(), index));
  std::ofstream(index) << R"({"metadata":{}})";
  CHECK(contains(open_error(), "missing \"weight_map\" object"));
  std::ofstream(index) << R"({"weight_map":{"w":3}})";
  CHECK(contains(open_error(), "weight_map entry w is not a string"));
  std::ofstream(index) << R"({"weight_map":{"w":"other.safetensors"}})";
  CHECK(contains(open_error(), "shard other.safetensors does not exist"));
  std::ofstream(index) << R"({"weight_map":{"w":"shard.safetensors","v":"shard.safetensors"}})";
  CHECK(contains(open_error(), "lists tensor v in"));
  std::ofstream(index) << R"({"weight_map":{"w":"../shard.safetensors"}})";
  CHECK(contains(open_error(), "invalid shard"));
}

TEST_CASE("weights: loader reports missing tensors and wrong shapes by name") {
  const WeightStore store = WeightStore::open(kFixtures + "/lm.safetensors");
  WeightLoader loader(store, torch::kFloat32, torch::kCPU);
  WeightLoader layer = loader.sub("model").sub("layers.0");
  CHECK(layer.prefix() == "model.layers.0.");
  const torch::Tensor q = layer.get("self_attn.q_proj.weight", {96, 96});
  CHECK((q.sizes() == torch::IntArrayRef({96, 96})));

  const std::string missing = error_of([&] { layer.get("self_attn.o_proj.bias", {96}); });
  CHECK(contains(missing, "missing tensor model.layers.0.self_attn.o_proj.bias"));
  const std::string wrong = error_of([&] { layer.get("self_attn.k_proj.weight", {96, 96}); });
  CHECK(contains(
      wrong,
      "tensor model.layers.0.self_attn.k_proj.weight: expected shape [96, 96], found [48, 96]"));
  const std::string rank = error_of([&] { layer.get("input_layernorm.weight", {96, 1}); });
  CHECK(contains(rank, "expected shape [96, 1], found [96]"));

  // Strict-load bookkeeping: only the q projection of layer 0 was taken.
  const std::vector<std::string> unused = loader.unused();
  CHECK(std::find(unused.begin(), unused.end(), "model.layers.0.self_attn.q_proj.weight") ==
        unused.end());
  CHECK(std::find(unused.begin(), unused.end(), "model.layers.0.self_attn.k_proj.weight") !=
        unused.end());
  CHECK(unused.size() + 1 == store.names().size());
  // Values match the float32 file bytes exactly.
  const std::vector<float> expected =
      read_floats(*store.find("model.layers.0.self_attn.q_proj.weight"));
  CHECK(std::memcmp(q.data_ptr<float>(), expected.data(), expected.size() * 4) == 0);
  // bf16 run dtype rounds the stored float32 values.
  WeightLoader bf16_loader(store, torch::kBFloat16, torch::kCPU);
  const torch::Tensor q16 = bf16_loader.get("model.layers.0.self_attn.q_proj.weight", {96, 96});
  CHECK((q16.scalar_type() == torch::kBFloat16));
  CHECK(torch::allclose(q16.to(torch::kFloat32), q, 1e-2, 1e-3));
}

TEST_CASE("weights: a directory of safetensors files is one store and duplicates are rejected") {
  ScratchDir dir;
  const std::vector<float> values = {1, 2};
  write_safetensors(dir.file("a.safetensors"), {view_of("x", DType::F32, {2}, values.data())});
  write_safetensors(dir.file("b.safetensors"), {view_of("y", DType::F32, {2}, values.data())});
  CHECK((WeightStore::open(dir.path.string()).names() == std::vector<std::string>{"x", "y"}));
  write_safetensors(dir.file("c.safetensors"), {view_of("x", DType::F32, {2}, values.data())});
  CHECK(contains(error_of([&] { WeightStore::open(dir.path.string()); }),
                 "tensor x appears in both"));
  ScratchDir empty;
  CHECK(contains(error_of([&] { WeightStore::open(empty.path.string()); }),
                 "neither model.safetensors.index.json"));
}

TEST_CASE("weights: views_of rejects non-contiguous tensors and write rejects duplicates") {
  const torch::Tensor t = torch::zeros({4, 4}).t();
  CHECK(contains(error_of([&] {
                   views_of({{"t", t}});
                 }),
                 "tensor t must be a contiguous CPU tensor"));
  const std::vector<float> values = {1, 2};
  ScratchDir dir;
  const std::string error = error_of([&] {
    write_safetensors(dir.file("d.safetensors"), {view_of("x", DType::F32, {2}, values.data()),
                                                  view_of("x", DType::F32, {2}, values.data())});
  });
  CHECK(contains(error, "duplicate tensor x"));
}

TEST_CASE("tokenizer: malformed tokenizer.json gives a clear error naming the file") {
  ScratchDir dir;
  const std::string path = dir.file("tokenizer.json");
  const nlohmann::json good = nlohmann::json::parse(
      std::ifstream(std::string(VLA_TEST_DATA_DIR) + "/dream_vla/tiny_tokenizer.json"));
  auto load_error = [&](const nlohmann::json& content) {
    std::ofstream(path) << content.dump();
    return error_of([&] { Tokenizer::load(path); });
  };
  CHECK(load_error(good).empty());

  std::ofstream(path) << "{\"model\": ";
  const std::string not_json = error_of([&] { Tokenizer::load(path); });
  CHECK(contains(not_json, path));
  CHECK(contains(not_json, "not valid JSON"));
  CHECK(contains(error_of([&] { Tokenizer::load(dir.file("absent.json")); }), "cannot open"));

  nlohmann::json broken = good;
  broken.erase("model");
  CHECK(contains(load_error(broken), "missing \"model\" object"));
  broken = good;
  broken["model"]["vocab"] = nlohmann::json::array();
  CHECK(contains(load_error(broken), "missing \"model.vocab\" object"));
  broken = good;
  broken["model"].erase("merges");
  CHECK(contains(load_error(broken), "missing \"model.merges\" array"));
  broken = good;
  broken["model"]["type"] = "WordPiece";
  CHECK(contains(load_error(broken), "model type \"WordPiece\" is not supported"));
  broken = good;
  broken["model"]["vocab"]["he"] = "256";
  CHECK(contains(load_error(broken), "vocab entry \"he\" has no non-negative integer id"));
  broken = good;
  broken["model"]["vocab"].erase("!");
  CHECK(contains(load_error(broken), "lacks the byte-level symbol of byte 33"));
  broken = good;
  broken["model"]["merges"].push_back(nlohmann::json::array({"q", "zz"}));
  CHECK(contains(load_error(broken), "uses a token missing from the vocab"));
  broken = good;
  broken["model"]["merges"].push_back(7);
  CHECK(contains(load_error(broken), "neither a string nor a pair of strings"));
  broken = good;
  broken["model"]["merges"].push_back("nospace");
  CHECK(contains(load_error(broken), "is not \"left right\""));
  broken = good;
  broken["added_tokens"][0].erase("id");
  CHECK(contains(load_error(broken), "needs a string \"content\" and an integer \"id\""));
  broken = good;
  broken["normalizer"] = {{"type", "Lowercase"}};
  CHECK(contains(load_error(broken), "normalizer \"Lowercase\" is not supported"));
  broken = good;
  broken["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\s+";
  CHECK(contains(load_error(broken), "not the Qwen2 pattern"));
  broken = good;
  broken.erase("pre_tokenizer");
  CHECK(contains(load_error(broken), "missing \"pre_tokenizer\" object"));
}

TEST_CASE("postprocess: dataset_statistics.json, un-normalisation and the LIBERO gripper") {
  const auto statistics = load_dataset_statistics(std::string(VLA_TEST_DATA_DIR) +
                                                  "/dream_vla/dataset_statistics.json");
  CHECK(statistics.size() == 2);
  const DatasetStatistics& libero =
      select_statistics(statistics, "libero_spatial");  // falls back to _no_noops
  CHECK(libero.num_transitions == 52970);
  CHECK(libero.num_trajectories == 432);
  CHECK(libero.action.dimensions() == 7);
  CHECK_FALSE(libero.action.normalized(6));
  CHECK(select_statistics(statistics, "bridge_orig").num_trajectories == 10);
  CHECK(select_statistics(statistics, "bridge_orig")
            .action.normalized(6));  // no mask: every dimension
  CHECK(contains(error_of([&] { select_statistics(statistics, "libero_10"); }),
                 "no entry \"libero_10\" (or \"libero_10_no_noops\"); available: bridge_orig, "
                 "libero_spatial_no_noops"));

  // Hand-computed: 0.5 (x + 1)(q99 - q01 + 1e-8) + q01 on dims 0-5; gripper -sign(2g - 1).
  const std::vector<float> normalized = {0,    1,  -1, 0.5f, -0.5f, 0.25f, 0.7f,  //
                                         -1,   -1, 1,  -1,   1,     -1,    0.2f,  //
                                         0.5f, 0,  0,  0,    0,     0,     0.5f};
  std::vector<envs::Action> actions;
  postprocess_actions(normalized, libero.action, Normalization::kBoundsQ99, {}, actions);
  REQUIRE(actions.size() == 3);
  CHECK(actions[0][0] == doctest::Approx(5e-9).epsilon(1e-6));
  CHECK(actions[0][1] == 1.0f);
  CHECK(actions[0][2] == 0.0f);
  CHECK(actions[0][3] == 0.5f);
  CHECK(actions[0][4] == doctest::Approx(2.5e-9).epsilon(1e-6));
  CHECK(actions[0][5] == 0.5f);
  CHECK(actions[0][6] == -1.0f);  // 0.7 -> open (-1 in the env)
  CHECK(actions[1][0] == -0.5f);
  CHECK(actions[1][2] == doctest::Approx(2.0));
  CHECK(actions[1][4] == doctest::Approx(0.3));
  CHECK(actions[1][6] == 1.0f);  // 0.2 -> close (+1)
  CHECK(actions[2][0] == doctest::Approx(0.25));
  CHECK(actions[2][6] == 0.0f);  // exactly 0.5 -> sign 0
  // Without gripper handling the raw value passes through; BOUNDS uses min/max.
  postprocess_actions(normalized, libero.action, Normalization::kBounds, {6, false, false},
                      actions);
  CHECK(actions[0][6] == 0.7f);
  CHECK(actions[0][0] == doctest::Approx(0.0).epsilon(1e-6));
  CHECK(actions[1][2] == doctest::Approx(3.0));

  // The fixture's final normalised chunk: every masked dim maps into [q01, q99] when |x| <= 1.
  const auto flow = SafetensorsFile::open(kFixtures + "/vla_flow.safetensors");
  const std::vector<float> chunk = read_floats(*flow->find("actions"));
  REQUIRE(chunk.size() == 56);
  postprocess_actions(chunk, libero.action, Normalization::kBoundsQ99, {}, actions);
  REQUIRE(actions.size() == 8);
  for (size_t step = 0; step < 8; ++step) {
    for (size_t d = 0; d < 6; ++d) {
      const double x = chunk[step * 7 + d];
      const double lo = libero.action.q01[d], hi = libero.action.q99[d];
      CHECK(actions[step][d] == doctest::Approx((x + 1) / 2 * (hi - lo) + lo).epsilon(1e-6));
    }
    CHECK(actions[step][6] == (chunk[step * 7 + 6] > 0.5f   ? -1.0f
                               : chunk[step * 7 + 6] < 0.5f ? 1.0f
                                                            : 0.0f));
  }

  // Proprio: clip(2 (s - q01) / (q99 - q01 + 1e-8) - 1, -1, 1) on all 8 dims.
  const std::vector<float> state = {0, 1, 2, -1, 0.5f, 0.25f, 0.02f, 0};
  std::vector<float> proprio(8);
  normalize_proprio(state, libero.proprio, Normalization::kBoundsQ99, proprio);
  const std::vector<float> expected = {0, 0, 1, -1, 0, -0.5f, 0, -1};
  for (size_t d = 0; d < 8; ++d)
    CHECK(proprio[d] == doctest::Approx(expected[d]).epsilon(1e-6).scale(1));

  // Mismatched dimensions and malformed files.
  CHECK(contains(error_of([&] {
                   normalize_proprio(std::vector<float>(7), libero.proprio,
                                     Normalization::kBoundsQ99, proprio);
                 }),
                 "statistics have 8 dimensions, values have 7"));
  CHECK(contains(error_of([&] {
                   postprocess_actions(std::vector<float>(10), libero.action,
                                       Normalization::kBoundsQ99, {}, actions);
                 }),
                 "not a whole number of 7-dim actions"));
  ScratchDir dir;
  const std::string path = dir.file("dataset_statistics.json");
  std::ofstream(path) << R"({"libero_goal": {"action": {"q01": [0, 0], "mask": [true, false]}}})";
  CHECK(contains(error_of([&] { load_dataset_statistics(path); }),
                 "libero_goal.action lacks \"q99\""));
  std::ofstream(path) << R"({"libero_goal": {"action": {"q01": [0, 0], "q99": [1]}}})";
  CHECK(contains(error_of([&] { load_dataset_statistics(path); }), "fields differ in length"));
  std::ofstream(path) << R"({"libero_goal": {"proprio": {}}})";
  CHECK(contains(error_of([&] { load_dataset_statistics(path); }), "libero_goal lacks \"action\""));
  std::ofstream(path) << "[1, 2";
  CHECK(contains(error_of([&] { load_dataset_statistics(path); }), "not valid JSON"));
}

TEST_CASE("train: the training action target inverts through the policy's postprocessing") {
  using namespace policies::dream_vla;
  NormStats stats;
  stats.q01 = {-0.5, -0.4, -0.9, -0.1, -0.2, -0.3, 0.0};
  stats.q99 = {0.5, 0.6, 0.9, 0.1, 0.2, 0.3, 1.0};
  stats.mask = {true, true, true, true, true, true, false};
  const std::vector<std::vector<float>> env_actions = {{0.1f, -0.2f, 0.3f, 0.05f, -0.1f, 0.2f, -1.0f},
                                                       {-0.4f, 0.5f, -0.8f, 0.0f, 0.15f, -0.25f, 1.0f}};
  std::vector<float> normalized;
  for (const auto& action : env_actions) {
    std::vector<float> out(7);
    normalize_training_action(action, stats, out);
    normalized.insert(normalized.end(), out.begin(), out.end());
  }
  CHECK(normalized[6] == 1.0f);   // open -> dataset 1
  CHECK(normalized[13] == 0.0f);  // close -> dataset 0
  std::vector<envs::Action> decoded;
  postprocess_actions(normalized, stats, Normalization::kBoundsQ99, GripperConvention{}, decoded);
  REQUIRE(decoded.size() == 2);
  for (size_t row = 0; row < 2; ++row) {
    for (int dim = 0; dim < 7; ++dim) {
      CHECK(decoded[row][dim] == doctest::Approx(env_actions[row][dim]).epsilon(1e-5));
    }
  }
}
