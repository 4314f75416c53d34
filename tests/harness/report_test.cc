// Reports from hand-made run directories (no simulation): the Markdown, CSV
// and self-contained HTML files, published baselines beside the runs, the
// exact McNemar test against hand-computed p-values, and the baseline tables.
#include "harness/report.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>
#include "test_util.h"

namespace {

namespace fs = std::filesystem;

// A fresh directory for one test case.
fs::path temp_directory(const std::string& name) {
  const fs::path path =
      fs::temp_directory_path() / ("vla_report_test_" + std::to_string(getpid())) / name;
  fs::remove_all(path);
  fs::create_directories(path);
  return path;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string run_program(const std::string& arguments) {
  const std::string command = std::string(VLA_BINARY) + " " + arguments + " 2>&1";
  return test_util::run_command(command).text;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

harness::EpisodeResult episode(const std::string& suite, int task_id, int init_state,
                               bool success) {
  harness::EpisodeResult result;
  result.suite = suite;
  result.task_id = task_id;
  result.init_state = init_state;
  result.episode_id = suite + "/" + std::to_string(task_id) + "/" + std::to_string(init_state);
  result.success = success;
  result.steps = success ? 80 : 220;
  result.end_reason = success ? "success" : "max_steps";
  return result;
}

// Writes DIR/episodes.jsonl (context line, then one line per episode) and
// DIR/summary.json, as an eval run does.
void write_run(const fs::path& directory, const std::string& policy,
               const std::string& command_line,
               const std::vector<harness::EpisodeResult>& episodes) {
  fs::create_directories(directory);
  const nlohmann::json context = {{"schema_version", 1},
                                  {"program", "vla-harness"},
                                  {"command_line", command_line},
                                  {"policy", policy},
                                  {"date", "2025-01-01T00:00:00Z"}};
  std::ofstream out(directory / "episodes.jsonl");
  out << nlohmann::json{{"context", context}}.dump() << "\n";
  for (const auto& result : episodes) out << harness::to_json(result).dump() << "\n";
  out.close();
  harness::write_summary(directory.string(), context, harness::aggregate(episodes));
}

// Run A (scripted, camera perturbed): libero_spatial task 0: 4 of 5, task 1:
// 5 of 5; bridge task 1 (carrot): 2 of 4 with grasp 3 of 4. Run B (zero policy,
// no camera perturbation), same episode ids: libero_spatial 0 of 10; bridge 2
// of 4 on the same episodes. Discordant pairs: b (A only) = 9, c (B only) = 0.
void write_two_runs(const fs::path& root) {
  std::vector<harness::EpisodeResult> a, b;
  for (int task = 0; task < 2; ++task) {
    for (int init = 0; init < 5; ++init) {
      a.push_back(episode("libero_spatial", task, init, !(task == 0 && init == 4)));
      b.push_back(episode("libero_spatial", task, init, false));
    }
  }
  for (int init = 0; init < 4; ++init) {
    harness::EpisodeResult bridge = episode("bridge", 1, init, init < 2);
    bridge.metrics["grasp"] = init < 3 ? 1 : 0;
    a.push_back(bridge);
    bridge.metrics["grasp"] = init < 2 ? 1 : 0;
    b.push_back(bridge);
  }
  write_run(
      root / "run_a", "scripted",
      "vla-harness eval --suite libero_spatial,bridge --policy scripted --camera-position 0.02", a);
  write_run(root / "run_b", "zero", "vla-harness eval --suite libero_spatial,bridge --policy zero",
            b);
}

std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::vector<std::string> cells;
    std::string cell;
    bool quoted = false;
    for (char c : line) {
      if (c == '"') {
        quoted = !quoted;
      } else if (c == ',' && !quoted) {
        cells.push_back(cell);
        cell.clear();
      } else {
        cell += c;
      }
    }
    cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

std::string baselines_directory() { return std::string(VLA_SOURCE_DIR) + "/results/baselines"; }

}  // namespace

TEST_CASE("report: exact McNemar p-values match hand-computed ones") {
  // Two-sided: 2 * P[X <= min(b, c)], X ~ Binomial(b + c, 1/2).
  CHECK(harness::mcnemar_exact_p(0, 5) == doctest::Approx(0.0625));  // 2 / 32
  CHECK(harness::mcnemar_exact_p(5, 0) == doctest::Approx(0.0625));
  CHECK(harness::mcnemar_exact_p(1, 6) == doctest::Approx(0.125));     // 2 * 8 / 128
  CHECK(harness::mcnemar_exact_p(2, 8) == doctest::Approx(0.109375));  // 2 * 56 / 1024
  CHECK(harness::mcnemar_exact_p(0, 9) == doctest::Approx(2.0 / 512));
  CHECK(harness::mcnemar_exact_p(0, 1) == doctest::Approx(1.0));
  CHECK(harness::mcnemar_exact_p(3, 3) == doctest::Approx(1.0));
  CHECK(harness::mcnemar_exact_p(0, 0) == doctest::Approx(1.0));
  // Large counts stay finite: 400 vs 600 is far from chance.
  const double p = harness::mcnemar_exact_p(400, 600);
  CHECK(p > 0);
  CHECK(p < 1e-9);
  CHECK_THROWS_AS(harness::mcnemar_exact_p(-1, 2), std::invalid_argument);
}

TEST_CASE("report: runs load from their episodes, and pair by episode id") {
  const fs::path root = temp_directory("load");
  write_two_runs(root);
  const harness::RunData a = harness::load_run((root / "run_a").string());
  const harness::RunData b = harness::load_run((root / "run_b").string());
  CHECK(a.policy == "scripted");
  CHECK(a.label == "run_a");
  CHECK(a.episodes.size() == 14);
  CHECK(a.camera == "position 0.02 m, rotation 0 rad, fovy 0 deg");
  CHECK(b.camera == "none");
  const harness::PairedComparison paired = harness::compare_paired(a, b);
  CHECK(paired.same_plan);
  CHECK(paired.matched == 14);
  CHECK(paired.only_a == 9);
  CHECK(paired.only_b == 0);
  CHECK(paired.both == 2);
  CHECK(paired.neither == 3);
  CHECK(paired.p_value == doctest::Approx(2.0 / 512));
  CHECK(paired.suites == "libero_spatial,bridge");

  // A torn last line is no data; an episode recorded twice counts by its last line.
  const fs::path torn = root / "torn";
  write_run(torn, "scripted", "vla-harness eval", {episode("libero_goal", 3, 0, false)});
  {
    std::ofstream out(torn / "episodes.jsonl", std::ios::app);
    out << harness::to_json(episode("libero_goal", 3, 0, true)).dump() << "\n";
    out << R"({"episode_id": "libero_goal/3/1", "suite": "libe)";
  }
  const harness::RunData resumed = harness::load_run(torn.string());
  REQUIRE(resumed.episodes.size() == 1);
  CHECK(resumed.episodes[0].success);
  CHECK(resumed.rows.back().success_rate == doctest::Approx(1.0));

  // Camera levels recorded in the episodes' perturbations name the setting.
  const fs::path leveled = root / "leveled";
  write_run(leveled, "scripted", "vla-harness eval", {});
  {
    nlohmann::json line = harness::to_json(episode("libero_goal", 0, 0, true));
    line["camera_perturbation"] = {{"agentview",
                                    {{"position_offset", {0.01, 0, 0}},
                                     {"rotation_offset", {0, 0, 0}},
                                     {"fovy_delta", 0},
                                     {"level", 2},
                                     {"mode", "orbit"}}}};
    std::ofstream(leveled / "episodes.jsonl", std::ios::app) << line.dump() << "\n";
  }
  const harness::RunData level_run = harness::load_run(leveled.string());
  CHECK(level_run.camera == "level 2 (orbit)");
  CHECK(level_run.camera_level == doctest::Approx(2));
  // Or in the run's plan record, when the episodes do not carry it.
  const fs::path planned = root / "planned";
  write_run(planned, "scripted", "vla-harness eval", {episode("libero_goal", 0, 0, true)});
  {
    std::string text = read_text(planned / "episodes.jsonl");
    const nlohmann::json context = {
        {"context",
         {{"policy", "scripted"},
          {"plan",
           {{"camera",
             {{"position", 0}, {"rotation", 0}, {"fovy", 0}, {"level", 4}, {"mode", "free"}}}}}}}};
    text = context.dump() + text.substr(text.find('\n'));
    std::ofstream(planned / "episodes.jsonl") << text;
  }
  CHECK(harness::load_run(planned.string()).camera == "level 4 (free)");

  // Bad input: one clear error naming the file.
  CHECK_THROWS_WITH_AS(harness::load_run((root / "missing").string()),
                       doctest::Contains("episodes.jsonl"), std::runtime_error);
  const fs::path broken = root / "broken";
  write_run(broken, "scripted", "vla-harness eval", {episode("libero_goal", 0, 0, true)});
  {
    std::ofstream out(broken / "episodes.jsonl", std::ios::app);
    out << "{not json\n" << harness::to_json(episode("libero_goal", 0, 1, true)).dump() << "\n";
  }
  CHECK_THROWS_WITH_AS(harness::load_run(broken.string()), doctest::Contains("episodes.jsonl:3"),
                       std::runtime_error);
}

TEST_CASE("report: baseline files carry the published tables") {
  const std::vector<harness::BaselineTable> tables = harness::load_baselines(baselines_directory());
  REQUIRE(tables.size() == 3);
  auto table = [&](const std::string& benchmark) -> const harness::BaselineTable& {
    for (const auto& t : tables) {
      if (t.benchmark == benchmark) return t;
    }
    FAIL("no baseline table " << benchmark);
    return tables.front();
  };
  auto entry = [](const harness::BaselineTable& t, const std::string& policy,
                  const std::string& suite) -> const harness::BaselineEntry& {
    for (const auto& e : t.entries) {
      if (e.policy == policy && e.suite == suite) return e;
    }
    FAIL("no entry " << policy << " " << suite);
    return t.entries.front();
  };
  // Every number of the tables: count them (LIBERO 10 x 5, Bridge 10 x 10, Fractal 10 x 9).
  auto numbers = [](const harness::BaselineTable& t) {
    size_t n = 0;
    for (const auto& e : t.entries) {
      n += e.values.size();
      for (const auto& [task, values] : e.tasks) n += values.size();
    }
    for (const auto& [policy, values] : t.summaries) n += values.size();
    return n;
  };
  const auto& libero = table("LIBERO");
  const auto& bridge = table("SimplerEnv-Bridge");
  const auto& fractal = table("SimplerEnv-Fractal");
  CHECK(numbers(libero) == 50);
  CHECK(numbers(bridge) == 100);
  CHECK(numbers(fractal) == 90);
  for (const auto* t : {&libero, &bridge, &fractal}) {
    CHECK(t->policies.size() == 10);
    CHECK(t->source.find("Dream-VL") != std::string::npos);
  }
  // Spot checks, as fractions.
  CHECK(libero.suite_labels.at("libero_10") == "LIBERO Long");
  CHECK(entry(libero, "Dream-VLA", "libero_10").values.at("success") == doctest::Approx(0.950));
  CHECK(entry(libero, "OpenVLA", "libero_spatial").values.at("success") == doctest::Approx(0.847));
  CHECK(libero.summaries.at("Diffusion Policy").at("average") == doctest::Approx(0.724));
  const auto& spatial_vla = entry(bridge, "SpatialVLA", "bridge");
  CHECK(spatial_vla.tasks.at("put_eggplant_in_basket").at("grasp") == doctest::Approx(1.0));
  CHECK(spatial_vla.tasks.at("put_spoon_on_towel").at("success") == doctest::Approx(0.167));
  CHECK(spatial_vla.values.at("success") == doctest::Approx(0.427));
  CHECK(entry(bridge, "Octo-Base", "bridge").values.at("overall") == doctest::Approx(0.313));
  CHECK(entry(bridge, "pi0+FAST", "bridge").tasks.at("put_carrot_on_plate").at("grasp") ==
        doctest::Approx(0.585));
  CHECK(entry(fractal, "Octo-Base", "fractal_va").tasks.at("pick_coke_can").at("success") ==
        doctest::Approx(0.006));
  CHECK(entry(fractal, "RT-1-X", "fractal_vm").tasks.at("drawer").at("success") ==
        doctest::Approx(0.597));
  CHECK(entry(fractal, "Dream-VLA", "fractal_vm").values.at("success") == doctest::Approx(0.665));
  CHECK(fractal.summaries.at("RT-2-X").at("overall") == doctest::Approx(0.625));

  // A malformed file is refused with its name.
  const fs::path bad = temp_directory("bad_baselines");
  std::ofstream(bad / "wrong.json")
      << R"({"benchmark": "X", "source": "Y", "unit": "percent", "suites": {"bridge": "B"},
            "policies": [{"policy": "P", "suites": {"bridge": {"success": 140}}}]})";
  CHECK_THROWS_WITH_AS(harness::load_baselines(bad.string()), doctest::Contains("wrong.json"),
                       std::runtime_error);
  CHECK_THROWS_AS(harness::load_baselines((bad / "nothing").string()), std::runtime_error);
}

TEST_CASE("report: Markdown, CSV and self-contained HTML from two run directories") {
  const fs::path root = temp_directory("files");
  write_two_runs(root);
  std::vector<harness::RunData> runs = {harness::load_run((root / "run_a").string()),
                                        harness::load_run((root / "run_b").string())};
  harness::label_runs(&runs);
  harness::ReportSettings settings;
  settings.out_directory = (root / "report").string();
  const auto comparisons =
      harness::write_report(runs, harness::load_baselines(baselines_directory()), settings);
  REQUIRE(comparisons.size() == 1);
  CHECK(comparisons[0].only_a == 9);

  // CSV: one row per run x suite x task/suite row, values as aggregated.
  const auto csv = parse_csv(read_text(root / "report" / "report.csv"));
  REQUIRE(csv.size() == 1 + 2 * 5);
  const std::vector<std::string>& header = csv[0];
  auto column = [&](const std::string& name) {
    const auto at = std::find(header.begin(), header.end(), name);
    REQUIRE(at != header.end());
    return size_t(at - header.begin());
  };
  auto find_row = [&](const std::string& run, const std::string& suite, const std::string& task) {
    for (const auto& row : csv) {
      if (row[column("run")] == run && row[column("suite")] == suite &&
          row[column("task")] == task) {
        return row;
      }
    }
    FAIL("no CSV row " << run << " " << suite << " " << task);
    return csv[0];
  };
  const auto task0 = find_row("run_a", "libero_spatial", "0");
  CHECK(task0[column("row")] == "task");
  CHECK(task0[column("policy")] == "scripted");
  CHECK(task0[column("episodes")] == "5");
  CHECK(task0[column("successes")] == "4");
  CHECK(std::stod(task0[column("success_rate")]) == doctest::Approx(0.8));
  const harness::Interval wilson = harness::wilson_interval(4, 5);
  CHECK(std::stod(task0[column("ci95_low")]) == doctest::Approx(wilson.low).epsilon(1e-5));
  CHECK(std::stod(task0[column("ci95_high")]) == doctest::Approx(wilson.high).epsilon(1e-5));
  const auto suite_a = find_row("run_a", "libero_spatial", "all");
  CHECK(suite_a[column("row")] == "suite");
  CHECK(std::stod(suite_a[column("success_rate")]) == doctest::Approx(0.9));
  const auto carrot = find_row("run_a", "bridge", "1");
  CHECK(carrot[column("task_name")] == "put_carrot_on_plate");
  CHECK(std::stod(carrot[column("grasp")]) == doctest::Approx(0.75));
  CHECK(std::stod(find_row("run_b", "bridge", "1")[column("grasp")]) == doctest::Approx(0.5));
  CHECK(find_row("run_b", "libero_spatial", "all")[column("successes")] == "0");
  CHECK(find_row("run_b", "libero_spatial", "all")[column("camera")] == "none");

  // Markdown: runs, published rows labelled, the paired test.
  const std::string markdown = read_text(root / "report" / "report.md");
  CHECK(markdown.find("| run | scripted | run_a |") != std::string::npos);
  CHECK(markdown.find("| **published** | OpenVLA |") != std::string::npos);
  CHECK(markdown.find("84.7%") != std::string::npos);  // OpenVLA, LIBERO Spatial
  CHECK(markdown.find("60.4%") != std::string::npos);  // Dream-VLA, Bridge average success
  CHECK(markdown.find("Success vs camera perturbation") != std::string::npos);
  CHECK(markdown.find("| run_a | run_b | libero_spatial,bridge | 14 | 2 | 9 | 0 | 3 |") !=
        std::string::npos);
  CHECK(markdown.find("0.003906") != std::string::npos);  // p = 2 / 512

  // HTML: self-contained, one <svg> per plot, published beside the runs.
  const std::string html = read_text(root / "report" / "report.html");
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  // Per suite: per-task bars and policy vs policy (2 suites); one camera plot.
  CHECK(count(html, "<svg ") == 5);
  CHECK(count(html, "</svg>") == 5);
  CHECK(html.find("success per task") != std::string::npos);
  CHECK(html.find("policy vs policy") != std::string::npos);
  CHECK(html.find("Success vs camera perturbation (95% Wilson") != std::string::npos);
  // The camera plot also on its own (two camera settings: perturbed and none).
  const std::string camera_svg = read_text(root / "report" / "camera.svg");
  CHECK(camera_svg.rfind("<svg xmlns='http://www.w3.org/2000/svg'", 0) == 0);
  CHECK(camera_svg.find("Success vs camera perturbation") != std::string::npos);
  CHECK(count(camera_svg, "</svg>") == 1);
  for (const std::string forbidden :
       {"<script", "<link", "<img", "src=", "@import", "url(", "https://"}) {
    CHECK_MESSAGE(html.find(forbidden) == std::string::npos, "report.html contains " << forbidden);
  }
  // The only URL is the SVG namespace.
  CHECK(count(html, "http://") == count(html, "http://www.w3.org/2000/svg"));
  // Published rows: in their own table rows, labelled, and as bars named "published: ...".
  size_t published_rows = 0;
  for (size_t at = html.find("<tr class='published'>"); at != std::string::npos;
       at = html.find("<tr class='published'>", at + 1)) {
    const std::string row = html.substr(at, html.find("</tr>", at) - at);
    CHECK(row.find("published") != std::string::npos);
    ++published_rows;
  }
  CHECK(published_rows >= 30);  // every published policy of both suites, and the full tables
  CHECK(html.find("published: Dream-VLA") != std::string::npos);
  // The run's own numbers are untouched by the published ones.
  CHECK(html.find("<td>run</td><td>scripted</td><td>run_a</td>") != std::string::npos);
}

TEST_CASE("report: the command writes the report and still prints MMRV") {
  const fs::path root = temp_directory("command");
  write_two_runs(root);
  const std::string a = (root / "run_a").string(), b = (root / "run_b").string();
  const std::string out = (root / "out").string();
  std::ofstream(root / "real.json") << R"({"scripted": 0.7, "zero": 0.1})";
  const std::string output =
      run_program("report " + a + " " + b + " --out " + out + " --baselines " +
                  baselines_directory() + " --sim-run scripted=" + a + " --sim-run zero=" + b +
                  " --real " + (root / "real.json").string());
  INFO(output);
  CHECK(output.find("McNemar exact p=0.003906") != std::string::npos);
  CHECK(output.find("(3 published tables)") != std::string::npos);
  CHECK(output.find("MMRV") != std::string::npos);
  CHECK(fs::exists(root / "out" / "report.html"));
  CHECK(fs::exists(root / "out" / "report.md"));
  CHECK(fs::exists(root / "out" / "report.csv"));
  CHECK(run_program("report " + a).find("--out DIR") != std::string::npos);
  CHECK(run_program("report").find("needs RUN directories") != std::string::npos);
  CHECK(
      run_program("report " + (root / "nowhere").string() + " --out " + out).find("cannot open") !=
      std::string::npos);
}
