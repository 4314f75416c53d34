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

// 5x7 glyphs, one row per entry, bit 4 = left column; indexed by ASCII code.
struct TextFont {
  uint8_t rows[128][kTextGlyphHeight] = {};
  bool present[128] = {};
  TextFont() {
    struct Entry {
      char c;
      uint8_t rows[kTextGlyphHeight];
    };
    static const Entry entries[] = {
      {' ', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
      {'!', {0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04}},
      {'"', {0x0a, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00}},
      {'#', {0x0a, 0x0a, 0x1f, 0x0a, 0x1f, 0x0a, 0x0a}},
      {'%', {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}},
      {'&', {0x0c, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0d}},
      {'\'', {0x04, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00}},
      {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}},
      {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}},
      {'*', {0x00, 0x04, 0x15, 0x0e, 0x15, 0x04, 0x00}},
      {'+', {0x00, 0x04, 0x04, 0x1f, 0x04, 0x04, 0x00}},
      {',', {0x00, 0x00, 0x00, 0x00, 0x0c, 0x04, 0x08}},
      {'-', {0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00}},
      {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c}},
      {'/', {0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x10}},
      {'0', {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e}},
      {'1', {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e}},
      {'2', {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f}},
      {'3', {0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e}},
      {'4', {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02}},
      {'5', {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e}},
      {'6', {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e}},
      {'7', {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
      {'8', {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e}},
      {'9', {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c}},
      {':', {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00}},
      {';', {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x04, 0x08}},
      {'<', {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02}},
      {'=', {0x00, 0x00, 0x1f, 0x00, 0x1f, 0x00, 0x00}},
      {'>', {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08}},
      {'?', {0x0e, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04}},
      {'A', {0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11}},
      {'B', {0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e}},
      {'C', {0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e}},
      {'D', {0x1e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1e}},
      {'E', {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f}},
      {'F', {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10}},
      {'G', {0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f}},
      {'H', {0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11}},
      {'I', {0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e}},
      {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c}},
      {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}},
      {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f}},
      {'M', {0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11}},
      {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
      {'O', {0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e}},
      {'P', {0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10}},
      {'Q', {0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d}},
      {'R', {0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11}},
      {'S', {0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e}},
      {'T', {0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
      {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e}},
      {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04}},
      {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a}},
      {'X', {0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11}},
      {'Y', {0x11, 0x11, 0x0a, 0x04, 0x04, 0x04, 0x04}},
      {'Z', {0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f}},
      {'_', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f}},
    };
    for (const Entry& entry : entries) {
      std::copy(entry.rows, entry.rows + kTextGlyphHeight, rows[int(entry.c)]);
      present[int(entry.c)] = true;
    }
  }
  const uint8_t* glyph(char c) const {
    unsigned code = static_cast<unsigned char>(c);
    if (code >= 'a' && code <= 'z') code -= 'a' - 'A';
    if (code >= 128 || !present[code]) code = '?';
    return rows[code];
  }
};

const TextFont& text_font() {
  static const TextFont font;
  return font;
}

}  // namespace

void draw_text(envs::Image* image, int x, int y, std::string_view text, int scale,
               const std::array<uint8_t, 3>& color) {
  const TextFont& font = text_font();
  const int advance = (kTextGlyphWidth + 1) * scale;
  for (size_t i = 0; i < text.size(); ++i) {
    const uint8_t* rows = font.glyph(text[i]);
    const int left = x + int(i) * advance;
    if (left >= image->width) break;
    for (int row = 0; row < kTextGlyphHeight; ++row) {
      for (int column = 0; column < kTextGlyphWidth; ++column) {
        if (rows[row] & (0x10 >> column)) {
          fill(image, left + column * scale, y + row * scale, scale, scale, color);
        }
      }
    }
  }
}

int text_width(std::string_view text, int scale) {
  return text.empty() ? 0 : (int(text.size()) * (kTextGlyphWidth + 1) - 1) * scale;
}

void darken(envs::Image* image, int x, int y, int width, int height) {
  const int x1 = std::min(x + width, image->width), y1 = std::min(y + height, image->height);
  for (int row = std::max(y, 0); row < y1; ++row) {
    uint8_t* pixel = image->pixels.data() + 3 * (size_t(row) * image->width + std::max(x, 0));
    for (int column = std::max(x, 0); column < x1; ++column) {
      for (int channel = 0; channel < 3; ++channel, ++pixel) *pixel = uint8_t(*pixel / 2);
    }
  }
}

std::vector<std::string> wrap_text(const std::string& text, int max_chars) {
  std::vector<std::string> lines;
  if (max_chars < 1) return lines;
  std::string line;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    std::string word = text.substr(start, end - start);
    start = end + 1;
    if (word.empty()) continue;
    while (int(word.size()) > max_chars) {
      if (!line.empty()) lines.push_back(std::move(line)), line.clear();
      lines.push_back(word.substr(0, max_chars));
      word.erase(0, max_chars);
    }
    if (line.empty()) {
      line = word;
    } else if (int(line.size() + 1 + word.size()) <= max_chars) {
      line += " " + word;
    } else {
      lines.push_back(std::move(line));
      line = word;
    }
  }
  if (!line.empty()) lines.push_back(std::move(line));
  return lines;
}

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
