// Contact sheets: grid layout, labels, errors, and `render --suite S --all`
// writing one PNG of the whole suite.
#include "harness/contact_sheet.h"

#include <doctest/doctest.h>
#include <png.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>

namespace {

envs::Image flat(int width, int height, uint8_t value) {
  envs::Image image;
  image.width = width;
  image.height = height;
  image.pixels.assign(size_t(width) * height * 3, value);
  return image;
}

// Reads an RGB PNG (8 bit) with libpng's simplified API.
envs::Image read_png(const std::string& path) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  REQUIRE(png_image_begin_read_from_file(&png, path.c_str()));
  png.format = PNG_FORMAT_RGB;
  envs::Image image;
  image.width = int(png.width);
  image.height = int(png.height);
  image.pixels.resize(PNG_IMAGE_SIZE(png));
  REQUIRE(png_image_finish_read(&png, nullptr, image.pixels.data(), 0, nullptr));
  return image;
}

// The cell at grid position (column, row) of a sheet made with `settings`.
envs::Image cell(const envs::Image& sheet, int column, int row, int size,
                 const harness::ContactSheetSettings& settings) {
  envs::Image out = flat(size, size, 0);
  const int x0 = settings.gap + column * (size + settings.gap);
  const int y0 = settings.gap + row * (size + settings.gap);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < 3 * size; ++x) {
      out.pixels[3 * size_t(y) * size + x] =
          sheet.pixels[3 * (size_t(y0 + y) * sheet.width + x0) + x];
    }
  }
  return out;
}

}  // namespace

TEST_CASE("contact sheet: cells laid out row-major with gaps and a label in each corner") {
  harness::ContactSheetSettings settings;
  settings.columns = 2;
  settings.gap = 3;
  settings.label_scale = 1;
  const std::vector<envs::Image> cells = {flat(20, 10, 100), flat(20, 10, 150), flat(20, 10, 200)};
  const envs::Image sheet = harness::make_contact_sheet(cells, {"0", "1", "2"}, settings);
  CHECK(sheet.width == 2 * 20 + 3 * 3);
  CHECK(sheet.height == 2 * 10 + 3 * 3);
  auto at = [&](int x, int y) { return sheet.pixels[3 * (size_t(y) * sheet.width + x)]; };
  // Away from the label, each cell keeps its picture; the gaps and the empty slot are background.
  CHECK(at(3 + 15, 3 + 8) == 100);
  CHECK(at(3 + 20 + 3 + 15, 3 + 8) == 150);
  CHECK(at(3 + 15, 3 + 10 + 3 + 8) == 200);
  CHECK(at(1, 1) == settings.background[0]);
  CHECK(at(3 + 20 + 3 + 15, 3 + 10 + 3 + 8) == settings.background[0]);
  // The label: a dark patch with white font pixels ("0" has its top row lit).
  CHECK(at(3, 3) == 0);
  CHECK(at(3 + 1, 3 + 1) == 255);
}

TEST_CASE("contact sheet: bad input is refused with a clear message") {
  CHECK_THROWS_WITH_AS(harness::make_contact_sheet({}), doctest::Contains("no pictures"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(harness::make_contact_sheet({flat(8, 8, 0), flat(9, 8, 0)}),
                       doctest::Contains("differ in size"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(harness::make_contact_sheet({flat(8, 8, 0)}, {"1", "2"}),
                       doctest::Contains("2 labels for 1 pictures"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(harness::make_contact_sheet({flat(8, 8, 0)}, {"x"}),
                       doctest::Contains("no 'x'"), std::invalid_argument);
}

TEST_CASE("contact sheet: render --suite --all writes one PNG of every task, cells differ") {
  const auto path = std::filesystem::temp_directory_path() / "vla_contact_sheet_test.png";
  std::filesystem::remove(path);
  const std::string command = std::string(VLA_BINARY) +
                              " render --suite libero_spatial --all --size 48 --out " +
                              path.string() + " > /dev/null 2>&1";
  REQUIRE(std::system(command.c_str()) == 0);
  const envs::Image sheet = read_png(path.string());
  harness::ContactSheetSettings settings;  // the CLI's layout: 5 columns
  CHECK(sheet.width == 5 * 48 + 6 * settings.gap);
  CHECK(sheet.height == 2 * 48 + 3 * settings.gap);
  // The bowl starts somewhere else in each task: every two cells differ, also
  // below the corner that carries the label.
  std::vector<envs::Image> cells;
  for (int row = 0; row < 2; ++row) {
    for (int column = 0; column < 5; ++column)
      cells.push_back(cell(sheet, column, row, 48, settings));
  }
  for (size_t i = 0; i < cells.size(); ++i) {
    for (size_t j = i + 1; j < cells.size(); ++j) {
      INFO("cells " << i << " and " << j);
      const size_t lower_half = cells[i].pixels.size() / 2;
      CHECK(!std::equal(cells[i].pixels.begin() + lower_half, cells[i].pixels.end(),
                        cells[j].pixels.begin() + lower_half));
    }
  }
  std::filesystem::remove(path);
}
