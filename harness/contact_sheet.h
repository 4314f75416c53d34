// Contact sheets: many same-sized pictures laid out in one grid image, each
// labelled in its top-left corner with a tiny built-in digit font.
#pragma once

#include <array>
#include <cstdint>
#include <string>
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

}  // namespace harness
