#include "harness/contact_sheet.h"

#include <algorithm>
#include <stdexcept>

namespace harness {

namespace {

constexpr int kGlyphWidth = 3;
constexpr int kGlyphHeight = 5;

// 3x5 glyphs, one row per entry, bit 2 = left column.
const uint8_t* glyph(char c) {
  static const uint8_t digits[10][kGlyphHeight] = {
      {7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1},
      {7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7}};
  static const uint8_t slash[kGlyphHeight] = {1, 1, 2, 4, 4};
  static const uint8_t dash[kGlyphHeight] = {0, 0, 7, 0, 0};
  if (c >= '0' && c <= '9') return digits[c - '0'];
  if (c == '/') return slash;
  if (c == '-') return dash;
  return nullptr;
}

void fill(envs::Image* image, int x0, int y0, int width, int height,
          const std::array<uint8_t, 3>& rgb) {
  const int x1 = std::min(x0 + width, image->width), y1 = std::min(y0 + height, image->height);
  for (int y = std::max(y0, 0); y < y1; ++y) {
    for (int x = std::max(x0, 0); x < x1; ++x) {
      uint8_t* pixel = image->pixels.data() + 3 * (size_t(y) * image->width + x);
      std::copy(rgb.begin(), rgb.end(), pixel);
    }
  }
}

}  // namespace

void draw_label(envs::Image* image, int x, int y, const std::string& text, int scale) {
  for (char c : text) {
    if (!glyph(c)) {
      throw std::invalid_argument(std::string("contact sheet label '") + text +
                                  "': the font has no '" + c + "' (digits, '/', '-')");
    }
  }
  const int advance = (kGlyphWidth + 1) * scale;
  fill(image, x, y, int(text.size()) * advance + scale, (kGlyphHeight + 2) * scale, {0, 0, 0});
  for (size_t i = 0; i < text.size(); ++i) {
    const uint8_t* rows = glyph(text[i]);
    const int left = x + scale + int(i) * advance;
    for (int row = 0; row < kGlyphHeight; ++row) {
      for (int column = 0; column < kGlyphWidth; ++column) {
        if (rows[row] & (4 >> column)) {
          fill(image, left + column * scale, y + (row + 1) * scale, scale, scale, {255, 255, 255});
        }
      }
    }
  }
}

envs::Image make_contact_sheet(const std::vector<envs::Image>& cells,
                               const std::vector<std::string>& labels,
                               const ContactSheetSettings& settings) {
  if (cells.empty()) throw std::invalid_argument("contact sheet: no pictures");
  if (!labels.empty() && labels.size() != cells.size()) {
    throw std::invalid_argument("contact sheet: " + std::to_string(labels.size()) + " labels for " +
                                std::to_string(cells.size()) + " pictures");
  }
  if (settings.columns < 1)
    throw std::invalid_argument("contact sheet: columns must be at least 1");
  const int width = cells.front().width, height = cells.front().height;
  for (const envs::Image& cell : cells) {
    if (cell.width != width || cell.height != height ||
        cell.pixels.size() != size_t(width) * height * 3) {
      throw std::invalid_argument("contact sheet: pictures differ in size");
    }
  }
  const int columns = std::min(settings.columns, int(cells.size()));
  const int rows = (int(cells.size()) + columns - 1) / columns;
  envs::Image sheet;
  sheet.width = columns * width + (columns + 1) * settings.gap;
  sheet.height = rows * height + (rows + 1) * settings.gap;
  sheet.pixels.resize(size_t(sheet.width) * sheet.height * 3);
  fill(&sheet, 0, 0, sheet.width, sheet.height, settings.background);
  for (size_t i = 0; i < cells.size(); ++i) {
    const int x0 = settings.gap + int(i) % columns * (width + settings.gap);
    const int y0 = settings.gap + int(i) / columns * (height + settings.gap);
    for (int y = 0; y < height; ++y) {
      const uint8_t* source = cells[i].pixels.data() + 3 * size_t(y) * width;
      std::copy(source, source + 3 * width,
                sheet.pixels.data() + 3 * (size_t(y0 + y) * sheet.width + x0));
    }
    if (!labels.empty()) draw_label(&sheet, x0, y0, labels[i], settings.label_scale);
  }
  return sheet;
}

}  // namespace harness
