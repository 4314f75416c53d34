// Contact sheets: many same-sized pictures laid out in one grid image, each
// labelled in its top-left corner with a tiny built-in digit font.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "envs/types.h"

namespace harness {

struct ContactSheetSettings {
  int columns = 5;                                // cells per row
  int gap = 4;                                    // px between cells and around the sheet
  int label_scale = 3;                            // px per font pixel (the font is 3x5)
  std::array<uint8_t, 3> background{30, 30, 30};  // RGB of the gaps
};

// Lays `cells` (all the same size) out row-major; `labels` (digits, '/', '-',
// one per cell, or empty) are drawn on a dark patch in each cell's corner.
// Throws std::invalid_argument if there are no cells, they differ in size,
// the label count does not match, or a label has a character the font lacks.
envs::Image make_contact_sheet(const std::vector<envs::Image>& cells,
                               const std::vector<std::string>& labels = {},
                               const ContactSheetSettings& settings = {});

// Draws `text` at (x, y) (top-left) in white on a dark patch, `scale` px per
// font pixel; clipped at the image border.
void draw_label(envs::Image* image, int x, int y, const std::string& text, int scale);

// Text in a 5x7 font: capital letters (lower case is drawn in capitals),
// digits and common punctuation; other characters are drawn as '?'. Each
// character advances 6 font pixels. Nothing is allocated.
inline constexpr int kTextGlyphWidth = 5;
inline constexpr int kTextGlyphHeight = 7;
void draw_text(envs::Image* image, int x, int y, std::string_view text, int scale,
               const std::array<uint8_t, 3>& color = {255, 255, 255});
// Width in px of `text` drawn at `scale`.
int text_width(std::string_view text, int scale);
// Halves the brightness of a rectangle (a backdrop that keeps text readable); clipped.
void darken(envs::Image* image, int x, int y, int width, int height);
// Splits `text` at spaces into lines of at most `max_chars` characters (a
// longer word is cut).
std::vector<std::string> wrap_text(const std::string& text, int max_chars);

}  // namespace harness
