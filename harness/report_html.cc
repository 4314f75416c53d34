// The HTML page of `vla-harness report`: the Markdown report's text as HTML,
// with inline SVG plots in its sections. No scripts and no external assets.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include "harness/report.h"

namespace harness {

namespace {

const char* const kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#3d3d9e"};
constexpr int kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);
const char* const kPublishedFill = "#d0d0d0";

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string fixed(double value, int digits = 1) {
  char text[48];
  std::snprintf(text, sizeof(text), "%.*f", digits, value);
  return text;
}

std::string shorten(const std::string& text, size_t most) {
  return text.size() <= most ? text : text.substr(0, most - 1) + "~";
}

// A rate with its interval (low = high = rate when there is none).
struct Point {
  bool present = false;
  double rate = 0, low = 0, high = 0;
  std::string tooltip;
};

Point point_of(const Aggregate& row, const std::string& who) {
  char text[160];
  std::snprintf(text, sizeof(text), "%s: %.1f%% [%.1f, %.1f] (%d/%d)", who.c_str(),
                100 * row.success_rate, 100 * row.ci95.low, 100 * row.ci95.high, row.successes,
                row.episodes);
  return {true, row.success_rate, row.ci95.low, row.ci95.high, text};
}

// The y axis of a 0..100% vertical chart, with grid lines.
void y_axis(std::ostringstream& svg, double left, double top, double width, double height) {
  for (int tick = 0; tick <= 100; tick += 25) {
    const double y = top + height * (1 - tick / 100.0);
    svg << "<line x1='" << left << "' y1='" << y << "' x2='" << left + width << "' y2='" << y
        << "' stroke='#e4e4e4'/>"
        << "<text x='" << left - 6 << "' y='" << y + 4 << "' text-anchor='end'>" << tick
        << "%</text>";
  }
  svg << "<line x1='" << left << "' y1='" << top << "' x2='" << left << "' y2='" << top + height
      << "' stroke='#444'/>";
}

void legend(std::ostringstream& svg, double left, double top,
            const std::vector<std::pair<std::string, std::string>>& entries) {
  for (size_t i = 0; i < entries.size(); ++i) {
    const double y = top + 16.0 * i;
    svg << "<rect x='" << left << "' y='" << y - 10 << "' width='12' height='12' fill='"
        << entries[i].second << "'/><text x='" << left + 18 << "' y='" << y << "'>"
        << escape(entries[i].first) << "</text>";
  }
}

std::string svg_open(double width, double height, const std::string& title) {
  std::ostringstream svg;
  svg << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << height
      << "' viewBox='0 0 " << width << " " << height << "' role='img' font-size='11'>"
      << "<title>" << escape(title) << "</title>"
      << "<text x='8' y='16' font-size='13' font-weight='bold'>" << escape(title) << "</text>";
  return svg.str();
}

// Vertical bars per category, one per series, with interval whiskers.
std::string grouped_bar_chart(const std::string& title, const std::vector<std::string>& categories,
                              const std::vector<std::pair<std::string, std::string>>& series,
                              const std::vector<std::vector<Point>>& values) {
  const double bar = series.size() > 6 ? 9 : 14, gap = 14;
  const double left = 48, top = 30, plot_height = 200, label_space = 130;
  // Groups spread over at least 360 px; labels hang down to the right.
  const double plot_width = std::max(360.0, (bar * series.size() + gap) * categories.size());
  const double group_width = plot_width / std::max<size_t>(1, categories.size());
  const double width = left + plot_width + 170;
  const double height = top + plot_height + label_space + 16.0 * series.size() + 8;
  std::ostringstream svg;
  svg << svg_open(width, height, title);
  y_axis(svg, left, top, plot_width, plot_height);
  auto y_of = [&](double rate) { return top + plot_height * (1 - rate); };
  for (size_t c = 0; c < categories.size(); ++c) {
    const double x0 = left + (group_width - bar * series.size()) / 2 + group_width * c;
    for (size_t s = 0; s < series.size(); ++s) {
      const Point& point = values[c][s];
      if (!point.present) continue;
      const double x = x0 + bar * s, y = y_of(point.rate);
      svg << "<rect x='" << x << "' y='" << y << "' width='" << bar - 1 << "' height='"
          << top + plot_height - y << "' fill='" << series[s].second << "'><title>"
          << escape(point.tooltip) << "</title></rect>";
      const double mid = x + (bar - 1) / 2;
      svg << "<path d='M" << mid << " " << y_of(point.low) << "V" << y_of(point.high) << "M"
          << mid - 3 << " " << y_of(point.low) << "h6M" << mid - 3 << " " << y_of(point.high)
          << "h6' stroke='#222' fill='none'/>";
    }
    const double label_x = left + group_width * (c + 0.5), label_y = top + plot_height + 12;
    svg << "<text x='" << label_x << "' y='" << label_y << "' transform='rotate(35 " << label_x
        << " " << label_y << ")'>" << escape(shorten(categories[c], 34)) << "</text>";
  }
  svg << "<line x1='" << left << "' y1='" << top + plot_height << "' x2='" << left + plot_width
      << "' y2='" << top + plot_height << "' stroke='#444'/>";
  legend(svg, left, top + plot_height + label_space, series);
  svg << "</svg>";
  return svg.str();
}

// One horizontal bar per item (runs coloured, published grey and labelled so).
struct BarItem {
  std::string label, colour;
  Point point;
  bool published = false;
};
std::string horizontal_bar_chart(const std::string& title, const std::vector<BarItem>& items) {
  const double label_width = 300, plot_width = 360, row = 18, top = 40;
  const double width = label_width + plot_width + 70;
  const double height = top + row * items.size() + 24;
  std::ostringstream svg;
  svg << svg_open(width, height, title);
  auto x_of = [&](double rate) { return label_width + plot_width * rate; };
  for (int tick = 0; tick <= 100; tick += 25) {
    const double x = x_of(tick / 100.0);
    svg << "<line x1='" << x << "' y1='" << top - 6 << "' x2='" << x << "' y2='"
        << top + row * items.size() << "' stroke='#e4e4e4'/><text x='" << x << "' y='" << top - 10
        << "' text-anchor='middle'>" << tick << "%</text>";
  }
  for (size_t i = 0; i < items.size(); ++i) {
    const BarItem& item = items[i];
    const double y = top + row * i;
    svg << "<text x='" << label_width - 6 << "' y='" << y + 12 << "' text-anchor='end'"
        << (item.published ? " fill='#555' font-style='italic'" : "") << ">"
        << escape(shorten(item.label, 48)) << "</text>";
    svg << "<rect x='" << label_width << "' y='" << y + 2 << "' width='"
        << plot_width * item.point.rate << "' height='" << row - 5 << "' fill='" << item.colour
        << "'" << (item.published ? " stroke='#888' stroke-dasharray='3 2'" : "") << "><title>"
        << escape(item.point.tooltip) << "</title></rect>";
    if (!item.published) {
      const double mid = y + 2 + (row - 5) / 2;
      svg << "<path d='M" << x_of(item.point.low) << " " << mid << "H" << x_of(item.point.high)
          << "M" << x_of(item.point.low) << " " << mid - 3 << "v6M" << x_of(item.point.high) << " "
          << mid - 3 << "v6' stroke='#222' fill='none'/>";
    }
    svg << "<text x='" << x_of(std::max(item.point.rate, item.point.high)) + 6 << "' y='" << y + 12
        << "'>" << fixed(100 * item.point.rate) << "%</text>";
  }
  svg << "<line x1='" << label_width << "' y1='" << top - 6 << "' x2='" << label_width << "' y2='"
      << top + row * items.size() << "' stroke='#444'/></svg>";
  return svg.str();
}

// Success (y) against ordered camera settings (x), one line per series.
std::string line_chart(const std::string& title, const std::vector<std::string>& x_labels,
                       const std::vector<std::pair<std::string, std::string>>& series,
                       const std::vector<std::vector<Point>>& values) {
  const double left = 48, top = 30, plot_height = 200, label_space = 100;
  const double step = std::max(70.0, 480.0 / std::max<size_t>(1, x_labels.size()));
  const double plot_width = step * x_labels.size();
  const double width = left + plot_width + 170;
  const double height = top + plot_height + label_space + 16.0 * series.size() + 8;
  std::ostringstream svg;
  svg << svg_open(width, height, title);
  y_axis(svg, left, top, plot_width, plot_height);
  // Series sit side by side around each setting so their whiskers stay apart.
  auto x_of = [&](size_t index, size_t s) {
    return left + step * (index + 0.5) + 3.0 * (s - (series.size() - 1) / 2.0);
  };
  auto y_of = [&](double rate) { return top + plot_height * (1 - rate); };
  for (size_t s = 0; s < series.size(); ++s) {
    std::string path;
    for (size_t x = 0; x < x_labels.size(); ++x) {
      const Point& point = values[s][x];
      if (!point.present) continue;
      path += path.empty() ? 'M' : 'L';
      path += fixed(x_of(x, s));
      path += ' ';
      path += fixed(y_of(point.rate));
    }
    svg << "<path d='" << path << "' stroke='" << series[s].second
        << "' stroke-width='2' fill='none'/>";
    for (size_t x = 0; x < x_labels.size(); ++x) {
      const Point& point = values[s][x];
      if (!point.present) continue;
      const double cx = x_of(x, s);
      svg << "<path d='M" << cx << " " << y_of(point.low) << "V" << y_of(point.high) << "' stroke='"
          << series[s].second << "'/><circle cx='" << cx << "' cy='" << y_of(point.rate)
          << "' r='4' fill='" << series[s].second << "'><title>" << escape(point.tooltip)
          << "</title></circle>";
    }
  }
  for (size_t x = 0; x < x_labels.size(); ++x) {
    const double label_x = left + step * (x + 0.5), label_y = top + plot_height + 12;
    svg << "<text x='" << label_x << "' y='" << label_y << "' transform='rotate(30 " << label_x
        << " " << label_y << ")'>" << escape(shorten(x_labels[x], 40)) << "</text>";
  }
  svg << "<line x1='" << left << "' y1='" << top + plot_height << "' x2='" << left + plot_width
      << "' y2='" << top + plot_height << "' stroke='#444'/>";
  legend(svg, left, top + plot_height + label_space, series);
  svg << "</svg>";
  return svg.str();
}

const Aggregate* find_row(const RunData& run, const std::string& suite, const std::string& task,
                          bool is_group) {
  for (const Aggregate& row : run.rows) {
    if (row.suite == suite && row.task == task && row.is_group == is_group) return &row;
  }
  return nullptr;
}

// Plots of one suite: per-task bars, and runs against published baselines.
std::string suite_plots(const std::vector<RunData>& runs,
                        const std::vector<BaselineTable>& baselines, const std::string& suite) {
  std::vector<std::pair<std::string, bool>> keys;
  std::vector<std::pair<std::string, std::string>> series;
  std::vector<const RunData*> suite_runs;
  for (size_t r = 0; r < runs.size(); ++r) {
    if (!find_row(runs[r], suite, "all", false)) continue;
    suite_runs.push_back(&runs[r]);
    series.push_back({runs[r].label + " (" + runs[r].policy + ")", kPalette[r % kPaletteSize]});
    for (const Aggregate& row : runs[r].rows) {
      if (row.suite != suite || row.task == "all") continue;
      const std::pair<std::string, bool> key{row.task, row.is_group};
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    }
  }
  std::vector<std::string> categories;
  std::vector<std::vector<Point>> values;
  for (const auto& [task, is_group] : keys) {
    std::vector<Point> row_values;
    const Aggregate* first = nullptr;
    for (const RunData* run : suite_runs) {
      const Aggregate* row = find_row(*run, suite, task, is_group);
      if (row && !first) first = row;
      row_values.push_back(row ? point_of(*row, run->label) : Point{});
    }
    categories.push_back(row_task_label(*first));
    values.push_back(row_values);
  }
  std::string html = "<div class='plot'>" +
                     grouped_bar_chart(suite + ": success per task (95% Wilson intervals)",
                                       categories, series, values) +
                     "</div>";
  // Policy vs policy: every run's suite rate, then the published ones.
  std::vector<BarItem> items;
  for (size_t i = 0; i < suite_runs.size(); ++i) {
    const Aggregate* row = find_row(*suite_runs[i], suite, "all", false);
    items.push_back({suite_runs[i]->policy + " (" + suite_runs[i]->label + ")", series[i].second,
                     point_of(*row, suite_runs[i]->label), false});
  }
  for (const PublishedMatch& match : published_for_suite(baselines, suite)) {
    const auto success = match.values->find("success");
    if (success == match.values->end()) continue;
    const double rate = success->second;
    items.push_back({"published: " + match.entry->policy,
                     kPublishedFill,
                     {true, rate, rate, rate,
                      "published: " + match.entry->policy + " " + fixed(100 * rate) + "% (" +
                          match.table->source + ")"},
                     true});
  }
  html += "<div class='plot'>" +
          horizontal_bar_chart(suite + ": policy vs policy (runs, then published)", items) +
          "</div>";
  return html;
}

}  // namespace

std::string camera_plot_svg(const std::vector<RunData>& runs) {
  std::vector<const RunData*> ordered;
  for (const RunData& run : runs) ordered.push_back(&run);
  std::stable_sort(ordered.begin(), ordered.end(), camera_order);
  std::vector<std::string> cameras;
  for (const RunData* run : ordered) {
    if (std::find(cameras.begin(), cameras.end(), run->camera) == cameras.end()) {
      cameras.push_back(run->camera);
    }
  }
  std::vector<std::pair<std::string, std::string>> series;
  std::vector<std::vector<Point>> values;
  for (const std::string& suite : report_suites(runs)) {
    std::vector<std::string> policies;
    for (const RunData* run : ordered) {
      if (find_row(*run, suite, "all", false) &&
          std::find(policies.begin(), policies.end(), run->policy) == policies.end()) {
        policies.push_back(run->policy);
      }
    }
    for (const std::string& policy : policies) {
      std::vector<Point> line(cameras.size());
      for (const RunData* run : ordered) {
        const Aggregate* row = find_row(*run, suite, "all", false);
        if (run->policy != policy || !row) continue;
        const size_t x = std::find(cameras.begin(), cameras.end(), run->camera) - cameras.begin();
        // Several runs at one setting: the first keeps the point.
        if (!line[x].present) line[x] = point_of(*row, run->label + " (" + run->camera + ")");
      }
      series.push_back({policy + " on " + suite, kPalette[series.size() % kPaletteSize]});
      values.push_back(line);
    }
  }
  return line_chart("Success vs camera perturbation (95% Wilson intervals)", cameras, series,
                    values);
}

namespace {

// Success against the camera setting, one line per policy and suite.
std::string camera_plot(const std::vector<RunData>& runs) {
  return "<div class='plot'>" + camera_plot_svg(runs) + "</div>";
}

// Inline Markdown: `code` and **strong**, on escaped text.
std::string inline_markdown(const std::string& text) {
  std::string escaped = escape(text), out;
  bool code = false, strong = false;
  for (size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] == '`') {
      out += code ? "</code>" : "<code>";
      code = !code;
    } else if (!code && escaped.compare(i, 2, "**") == 0) {
      out += strong ? "</strong>" : "<strong>";
      strong = !strong;
      ++i;
    } else {
      out += escaped[i];
    }
  }
  if (code) out += "</code>";
  if (strong) out += "</strong>";
  return out;
}

// Cells of a Markdown table line ("\|" is a literal bar).
std::vector<std::string> table_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  for (size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
      cell += '|';
      ++i;
    } else if (line[i] == '|') {
      const size_t first = cell.find_first_not_of(' '), last = cell.find_last_not_of(' ');
      cells.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
      cell.clear();
    } else {
      cell += line[i];
    }
  }
  return cells;
}

}  // namespace

std::string format_report_html(const std::vector<RunData>& runs,
                               const std::vector<BaselineTable>& baselines,
                               const std::vector<PairedComparison>& comparisons,
                               const ReportSettings& settings) {
  const std::string markdown = format_report_markdown(runs, baselines, comparisons, settings);
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>"
       << escape(settings.title) << "</title><style>"
       << "body{font-family:sans-serif;margin:24px;color:#222;max-width:1400px}"
       << "table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}"
       << "th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}"
       << "th{background:#f2f2f2}tr.published td{background:#f7f7f7;color:#555;font-style:italic}"
       << ".plot{overflow-x:auto;margin:8px 0}code{font-size:12px}"
       << "</style></head><body>\n";
  std::istringstream lines(markdown);
  std::string line;
  std::vector<std::string> paragraph;
  bool in_table = false, header_row = false;
  auto flush_paragraph = [&] {
    if (paragraph.empty()) return;
    html << "<p>";
    for (size_t i = 0; i < paragraph.size(); ++i)
      html << (i ? " " : "") << inline_markdown(paragraph[i]);
    html << "</p>\n";
    paragraph.clear();
  };
  std::set<std::string> suites_with_runs;
  for (const std::string& suite : report_suites(runs)) suites_with_runs.insert(suite);
  while (std::getline(lines, line)) {
    if (line.rfind("|", 0) == 0) {
      flush_paragraph();
      if (!in_table) html << "<table>\n", in_table = true, header_row = true;
      if (line.rfind("|---", 0) == 0) continue;
      const std::vector<std::string> cells = table_cells(line);
      const bool published = !cells.empty() && cells[0].find("published") != std::string::npos;
      html << (published ? "<tr class='published'>" : "<tr>");
      for (const std::string& cell : cells) {
        html << (header_row ? "<th>" : "<td>") << inline_markdown(cell)
             << (header_row ? "</th>" : "</td>");
      }
      html << "</tr>\n";
      header_row = false;
      continue;
    }
    if (in_table) html << "</table>\n", in_table = false;
    if (line.empty()) {
      flush_paragraph();
      continue;
    }
    int level = 0;
    while (level < int(line.size()) && line[level] == '#') ++level;
    if (level > 0 && level < int(line.size()) && line[level] == ' ') {
      flush_paragraph();
      const std::string heading = line.substr(level + 1);
      html << "<h" << level << ">" << inline_markdown(heading) << "</h" << level << ">\n";
      // Plots follow the headings of their sections.
      const std::string suite_prefix = "Suite ";
      if (level == 2 && heading.rfind(suite_prefix, 0) == 0 &&
          suites_with_runs.count(heading.substr(suite_prefix.size()))) {
        html << suite_plots(runs, baselines, heading.substr(suite_prefix.size()));
      }
      if (level == 2 && heading == "Success vs camera perturbation") html << camera_plot(runs);
      continue;
    }
    paragraph.push_back(line);
  }
  flush_paragraph();
  if (in_table) html << "</table>\n";
  html << "</body></html>\n";
  return html.str();
}

}  // namespace harness
