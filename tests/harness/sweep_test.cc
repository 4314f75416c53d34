// Camera levels and the orbit, sweeps, episode videos and progress lines.
#include "harness/sweep.h"

#include <doctest/doctest.h>
#include <mujoco/mujoco.h>

#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "harness/camera_levels.h"
#include "harness/contact_sheet.h"
#include "harness/plan.h"
#include "harness/progress.h"
#include "harness/video.h"
#include "tasks/episode_env.h"
#include "test_util.h"

namespace {

struct Output {
  int status;
  std::string text;
};

Output run(const std::string& command) {
  const test_util::CommandOutput output = test_util::run_command(command);
  return {output.status, output.text};
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Pixel coordinates of world point `point` in camera `camera` of a square
// image of `size` px (x right, y down).
std::array<double, 2> project(const mjModel* m, const mjData* d, int camera, const double point[3],
                              int size) {
  const double* position = d->cam_xpos + 3 * camera;
  const double* axes = d->cam_xmat + 9 * camera;  // columns: camera x, y, z in world
  double relative[3], local[3] = {0, 0, 0};
  mju_sub3(relative, point, position);
  for (int k = 0; k < 3; ++k) {
    for (int i = 0; i < 3; ++i) local[k] += axes[3 * i + k] * relative[i];
  }
  const double focal = 0.5 * size / std::tan(0.5 * m->cam_fovy[camera] * mjPI / 180);
  REQUIRE(local[2] < 0);  // in front of the camera
  return {0.5 * size + focal * local[0] / -local[2], 0.5 * size - focal * local[1] / -local[2]};
}

// First geom welded to the world along the camera's optical axis.
std::array<double, 3> static_hit(const mjModel* m, const mjData* d, int camera) {
  double point[3], direction[3];
  mju_copy3(point, d->cam_xpos + 3 * camera);
  for (int i = 0; i < 3; ++i) direction[i] = -d->cam_xmat[9 * camera + 3 * i + 2];
  for (int pass = 0; pass < 64; ++pass) {
    int geom = -1;
    const double distance = mj_ray(m, d, point, direction, nullptr, 1, -1, &geom);
    REQUIRE(geom >= 0);
    for (int i = 0; i < 3; ++i) point[i] += distance * direction[i];
    if (m->body_weldid[m->geom_bodyid[geom]] == 0) break;
    for (int i = 0; i < 3; ++i) point[i] += 1e-6 * direction[i];
  }
  return {point[0], point[1], point[2]};
}

}  // namespace

TEST_CASE("camera levels: magnitudes grow with the level, level 5 is the LIBERO-Plus hardest") {
  for (int level = 1; level <= harness::kMaxCameraLevel; ++level) {
    const harness::CameraLevel& low = harness::camera_level(level - 1);
    const harness::CameraLevel& high = harness::camera_level(level);
    CHECK(high.azimuth_deg > low.azimuth_deg);
    CHECK(high.elevation_deg > low.elevation_deg);
    CHECK(high.distance_scale > low.distance_scale);
    CHECK(high.position_m > low.position_m);
    CHECK(high.yaw_pitch_deg > low.yaw_pitch_deg);
    CHECK(high.roll_deg > low.roll_deg);
    CHECK(high.fovy_deg > low.fovy_deg);
  }
  const harness::CameraLevel& zero = harness::camera_level(0);
  CHECK(zero.azimuth_deg == 0);
  CHECK(zero.distance_scale == 1);
  const harness::CameraLevel& hardest = harness::camera_level(5);
  CHECK(hardest.azimuth_deg == doctest::Approx(75));
  CHECK(hardest.elevation_deg == doctest::Approx(15));
  CHECK(hardest.distance_scale == doctest::Approx(2));
  CHECK(hardest.yaw_pitch_deg == doctest::Approx(10));
  CHECK_THROWS_WITH_AS(harness::camera_level(6), doctest::Contains("0..5"), std::runtime_error);
  CHECK_THROWS_WITH_AS(harness::parse_camera_mode("spin"), doctest::Contains("orbit, free"),
                       std::runtime_error);

  // Draws: within the bounds, reproducible per seed, larger on average at higher levels.
  double previous_mean = -1;
  for (int level = 0; level <= harness::kMaxCameraLevel; ++level) {
    const harness::CameraLevel& bounds = harness::camera_level(level);
    double mean = 0;
    for (uint64_t seed = 1; seed <= 200; ++seed) {
      const envs::CameraPerturbation orbit =
          harness::draw_camera_level(level, harness::CameraMode::kOrbit, seed);
      const envs::CameraPerturbation free =
          harness::draw_camera_level(level, harness::CameraMode::kFree, seed);
      CHECK(orbit.level == level);
      CHECK(orbit.mode == "orbit");
      CHECK(free.mode == "free");
      CHECK(std::abs(orbit.azimuth) <= bounds.azimuth_deg * M_PI / 180 + 1e-12);
      CHECK(orbit.elevation >= 0);
      CHECK(orbit.elevation <= bounds.elevation_deg * M_PI / 180 + 1e-12);
      CHECK(orbit.distance_scale >= 1);
      CHECK(orbit.distance_scale <= bounds.distance_scale + 1e-12);
      CHECK(orbit.position_offset == std::array<double, 3>{0, 0, 0});
      CHECK(!free.has_orbit());
      for (double v : free.position_offset) CHECK(std::abs(v) <= bounds.position_m + 1e-12);
      CHECK(std::abs(free.fovy_delta) <= bounds.fovy_deg + 1e-12);
      const envs::CameraPerturbation again =
          harness::draw_camera_level(level, harness::CameraMode::kOrbit, seed);
      CHECK(again.azimuth == orbit.azimuth);
      CHECK(again.rotation_offset == orbit.rotation_offset);
      mean += std::abs(orbit.azimuth) + std::abs(free.position_offset[0]);
    }
    mean /= 200;
    if (level == 0) CHECK(mean == 0);
    CHECK(mean > previous_mean);
    previous_mean = mean;
  }
}

TEST_CASE(
    "camera levels: a plan records the draw of each episode with its level and mode, and JSON keeps "
    "it") {
  harness::PlanSettings settings;
  settings.suites = {"libero_spatial"};
  settings.task_ids = {0};
  settings.episodes_per_task = 2;
  settings.camera_level = 4;
  settings.camera_mode = "orbit";
  const auto plan = harness::make_plan(settings);
  REQUIRE(plan.size() == 2);
  const envs::CameraPerturbation& camera = plan[0].cameras.at("agentview");
  CHECK(camera.level == 4);
  CHECK(camera.mode == "orbit");
  CHECK(camera.has_orbit());
  CHECK(std::isfinite(camera.look_at[0]));  // LIBERO-style: the scene's agentview target
  CHECK(camera.azimuth != plan[1].cameras.at("agentview").azimuth);
  const envs::CameraPerturbation back = harness::camera_from_json(harness::camera_to_json(camera));
  CHECK(back.azimuth == camera.azimuth);
  CHECK(back.elevation == camera.elevation);
  CHECK(back.distance_scale == camera.distance_scale);
  CHECK(back.look_at == camera.look_at);
  CHECK(back.level == 4);
  CHECK(back.mode == "orbit");

  settings.camera.position = 0.01;
  CHECK_THROWS_WITH_AS(harness::make_plan(settings), doctest::Contains("excludes custom"),
                       std::runtime_error);
}

TEST_CASE(
    "camera orbit: the look-at point stays at the image centre and the distance scales as drawn") {
  for (const char* key : {"libero_spatial/0", "bridge/0"}) {
    INFO(key);
    auto task = tasks::load_task(key);
    envs::EnvSettings settings;
    settings.cameras.clear();
    auto env = tasks::make_episode_env(task, settings);
    const mjModel* m = env->env().model();
    const mjData* d = env->env().data();
    const int camera = env->env().camera_id("agentview");
    REQUIRE(camera >= 0);
    env->reset(0);
    // The look-at point: LIBERO-style scenes know it, others use the optical axis' hit on the
    // table.
    const auto known = harness::known_look_at(*task, "agentview");
    const std::array<double, 3> look_at = known ? *known : static_hit(m, d, camera);
    const std::array<double, 2> centre0 = project(m, d, camera, look_at.data(), 224);
    CHECK(std::abs(centre0[0] - 112) < 1);
    CHECK(std::abs(centre0[1] - 112) < 1);
    double offset0[3];
    mju_sub3(offset0, d->cam_xpos + 3 * camera, look_at.data());
    const double elevation0 = std::asin(offset0[2] / mju_norm3(offset0));

    for (const auto& [azimuth, elevation, scale] :
         {std::array<double, 3>{1.2, 0.25, 1.8}, {-0.9, 0.1, 1.3}, {0.3, -0.1, 1.0}}) {
      envs::CameraPerturbation orbit;
      orbit.azimuth = azimuth;
      orbit.elevation = elevation;
      orbit.distance_scale = scale;
      if (known) orbit.look_at = *known;  // else the env finds the same point itself
      env->reset(0, {{"agentview", orbit}});
      const std::array<double, 2> centre = project(m, d, camera, look_at.data(), 224);
      CHECK(std::abs(centre[0] - 112) < 1);
      CHECK(std::abs(centre[1] - 112) < 1);
      double offset[3];
      mju_sub3(offset, d->cam_xpos + 3 * camera, look_at.data());
      CHECK(mju_norm3(offset) == doctest::Approx(scale * mju_norm3(offset0)).epsilon(1e-6));
      CHECK(std::asin(offset[2] / mju_norm3(offset)) ==
            doctest::Approx(elevation0 + elevation).epsilon(1e-6));
      // Azimuth: the horizontal direction turned by the drawn angle.
      const double turned = std::atan2(offset[1], offset[0]) - std::atan2(offset0[1], offset0[0]);
      CHECK(std::remainder(turned - azimuth, 2 * M_PI) == doctest::Approx(0).epsilon(1e-6));
      // The image stays level: the camera's x axis is horizontal.
      CHECK(std::abs(d->cam_xmat[9 * camera + 6]) < 1e-9);
    }
    // Reset without a perturbation restores the camera.
    env->reset(0);
    double offset[3];
    mju_sub3(offset, d->cam_xpos + 3 * camera, look_at.data());
    CHECK(mju_norm3(offset) == doctest::Approx(mju_norm3(offset0)));
  }
}

TEST_CASE("sweep: cells of the grid, spec files and flags, dry run") {
  harness::SweepSpec spec;
  spec.suites = {"libero_spatial", "bridge"};
  spec.policies = {"scripted", "zero"};
  spec.camera_levels = {0, 3};
  spec.seeds = {1, 2};
  const auto cells = harness::sweep_cells(spec, "/tmp/sweep_out");
  REQUIRE(cells.size() == 16);
  CHECK(cells[0].name == "libero_spatial__scripted__cam0__seed1");
  CHECK(cells[1].name == "libero_spatial__scripted__cam0__seed2");
  CHECK(cells[15].name == "bridge__zero__cam3__seed2");
  CHECK(cells[15].directory == "/tmp/sweep_out/bridge__zero__cam3__seed2");
  std::set<std::string> directories;
  for (const auto& cell : cells) directories.insert(cell.directory);
  CHECK(directories.size() == 16);
  spec.camera_levels = {2, 2};
  CHECK_THROWS_WITH_AS(harness::sweep_cells(spec, "/tmp/x"), doctest::Contains("share"),
                       std::runtime_error);
  spec.camera_levels = {7};
  CHECK_THROWS_WITH_AS(harness::sweep_cells(spec, "/tmp/x"), doctest::Contains("0..5"),
                       std::runtime_error);

  const auto dir = std::filesystem::temp_directory_path() / "vla_sweep_dry";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto spec_path = dir / "sweep.json";
  std::ofstream(spec_path) << R"({"suites": ["libero_goal"], "policies": ["scripted"],
                                  "camera_levels": [1, 5], "seeds": [3], "camera_mode": "free",
                                  "tasks": [0, 2], "episodes_per_task": 1})";
  const harness::SweepSpec loaded = harness::load_sweep_spec(spec_path.string());
  CHECK(loaded.camera_levels == std::vector<int>{1, 5});
  CHECK(loaded.tasks == "0,2");
  CHECK(loaded.camera_mode == "free");
  std::ofstream(dir / "bad.json") << R"({"suite": ["libero_goal"]})";
  CHECK_THROWS_WITH_AS(harness::load_sweep_spec((dir / "bad.json").string()),
                       doctest::Contains("unknown key"), std::runtime_error);

  // Flags override the spec; nothing runs.
  const Output dry = run(std::string(VLA_BINARY) + " sweep --spec " + spec_path.string() +
                         " --seeds 3,4 --out " + (dir / "out").string() + " --dry-run 2>&1");
  INFO(dry.text);
  REQUIRE(dry.status == 0);
  CHECK(dry.text.find("4 cells") != std::string::npos);
  CHECK(dry.text.find("libero_goal__scripted__cam5__seed4") != std::string::npos);
  CHECK(dry.text.find("--camera-mode free") != std::string::npos);
  CHECK(dry.text.find("pending") != std::string::npos);
  CHECK(!std::filesystem::exists(dir / "out"));
}

TEST_CASE("sweep: a tiny real sweep runs its cells, makes videos, prints progress lines, resumes") {
  const auto dir = std::filesystem::temp_directory_path() / "vla_sweep_real";
  std::filesystem::remove_all(dir);
  const std::string command = std::string(VLA_BINARY) +
                              " sweep --suites libero_spatial --tasks 0 --episodes-per-task 1 "
                              "--camera-levels 0,2 --out " +
                              dir.string() + " -- --videos 1";
  // stderr goes to a file: not a terminal, so progress comes as plain lines.
  const Output first = run(command + " 2>" + (dir.string() + ".stderr"));
  const std::string errors = read_file(dir.string() + ".stderr");
  INFO(first.text);
  INFO(errors);
  REQUIRE(first.status == 0);
  CHECK(first.text.find("done") != std::string::npos);
  CHECK(errors.find("progress [1/1 100%] success") != std::string::npos);
  CHECK(errors.find("obs/s") != std::string::npos);
  CHECK(errors.find('\r') == std::string::npos);
  for (const char* cell :
       {"libero_spatial__scripted__cam0__seed7", "libero_spatial__scripted__cam2__seed7"}) {
    INFO(cell);
    CHECK(std::filesystem::exists(dir / cell / "summary.json"));
    const auto video = dir / cell / "videos" / "libero_spatial_0_0.mp4";
    REQUIRE(std::filesystem::exists(video));
    const std::string bytes = read_file(video);
    REQUIRE(bytes.size() > 1000);
    CHECK(bytes.substr(4, 4) == "ftyp");
    // Frames: the state after reset plus one per policy step.
    std::ifstream episodes(dir / cell / "episodes.jsonl");
    std::string line, last;
    while (std::getline(episodes, line)) last = line;
    const int steps = nlohmann::json::parse(last).at("steps").get<int>();
    if (run("command -v ffprobe").status == 0) {
      const Output probe =
          run("ffprobe -v error -select_streams v:0 -count_frames -show_entries "
              "stream=codec_name,nb_read_frames,width -of csv=p=0 " +
              video.string());
      CHECK(probe.text.find("h264,224," + std::to_string(steps + 1)) != std::string::npos);
    }
  }
  // Again: every cell resumes, nothing re-runs.
  const Output second = run(command + " 2>&1");
  INFO(second.text);
  CHECK(second.status == 0);
  CHECK(second.text.find("ran 0 episodes (1 already recorded)") != std::string::npos);
}

TEST_CASE("sweep: the table's columns line up with long policy names") {
  harness::SweepSpec spec;
  spec.policies = {"scripted", "dream-vla:models/dream-vla-tiny-camera-randomized-twin"};
  const auto cells = harness::sweep_cells(spec, "/tmp/sweep_out");
  std::vector<harness::CellOutcome> outcomes(cells.size());
  outcomes[0].status = "done";
  outcomes[0].episodes = 10;
  const std::string table = harness::format_sweep_table(cells, outcomes);
  std::istringstream lines(table);
  std::string header;
  std::getline(lines, header);
  const size_t directory_at = header.find("directory");
  REQUIRE(directory_at != std::string::npos);
  size_t rows = 0;
  for (std::string row; std::getline(lines, row); ++rows) {
    INFO(row);
    REQUIRE(rows < cells.size());
    CHECK(row.substr(directory_at) == cells[rows].directory);
  }
  CHECK(rows == cells.size());
}

TEST_CASE("sweep: a cell whose eval is killed by a signal runs once more and resumes") {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("vla_sweep_crash_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  // The program of the cells: its first run records the cell's episodes,
  // then dies of SIGSEGV; later runs are the real binary (which resumes).
  const std::string wrapper = (dir / "crashing-vla-harness").string();
  const std::string marker = (dir / "crashed").string();
  {
    std::ofstream script(wrapper);
    script << "#!/bin/sh\n"
           << "if [ ! -e " << marker << " ]; then\n"
           << "  touch " << marker << "\n"
           << "  \"" << VLA_BINARY << "\" \"$@\" >/dev/null 2>&1\n"
           << "  kill -SEGV $$\n"
           << "fi\n"
           << "exec \"" << VLA_BINARY << "\" \"$@\"\n";
  }
  std::filesystem::permissions(wrapper, std::filesystem::perms::owner_all);
  harness::SweepSpec spec;
  spec.tasks = "0";
  spec.episodes_per_task = 2;
  const std::vector<harness::SweepCell> cells = harness::sweep_cells(spec, (dir / "sweep").string());
  REQUIRE(cells.size() == 1);
  const std::vector<harness::CellOutcome> outcomes = harness::run_sweep(cells, wrapper);
  REQUIRE(outcomes.size() == 1);
  CHECK(std::filesystem::exists(marker));
  // Without the second run the cell would be "failed".
  CHECK(outcomes[0].status == "done");
  CHECK(outcomes[0].episodes == 2);
  std::filesystem::remove_all(dir);
}

TEST_CASE("video: a writer makes an H.264 MP4 of the frames it gets") {
  const auto dir = std::filesystem::temp_directory_path() / "vla_video_writer";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = harness::video_path(dir.string(), "suite/3/7");
  CHECK(path == (dir / "suite_3_7.mp4").string());
  {
    harness::VideoWriter writer(path, 64, 48, 10);
    envs::Image frame;
    frame.width = 64;
    frame.height = 48;
    for (int i = 0; i < 12; ++i) {
      frame.pixels.assign(64 * 48 * 3, uint8_t(20 * i));
      harness::draw_text(&frame, 2, 2, "step " + std::to_string(i), 1);
      writer.write(frame);
    }
    envs::Image wrong;
    wrong.width = 32;
    wrong.height = 48;
    wrong.pixels.resize(32 * 48 * 3);
    CHECK_THROWS_WITH_AS(writer.write(wrong), doctest::Contains("32x48"), std::runtime_error);
    writer.finish();
    CHECK(writer.frames() == 12);
  }
  const std::string bytes = read_file(path);
  REQUIRE(bytes.size() > 8);
  CHECK(bytes.substr(4, 4) == "ftyp");
  if (run("command -v ffprobe").status == 0) {
    const Output probe =
        run("ffprobe -v error -select_streams v:0 -count_frames -show_entries "
            "stream=codec_name,nb_read_frames -of csv=p=0 " +
            path);
    CHECK(probe.text.find("h264,12") != std::string::npos);
  }
  // An unfinished video is removed.
  const std::string dropped = (dir / "dropped.mp4").string();
  { harness::VideoWriter writer(dropped, 64, 48, 10); }
  CHECK(!std::filesystem::exists(dropped));
  CHECK_THROWS_WITH_AS(harness::VideoWriter((dir / "odd.mp4").string(), 63, 48, 10),
                       doctest::Contains("even"), std::runtime_error);
  CHECK_THROWS_WITH_AS(harness::parse_videos_option("some"), doctest::Contains("--videos"),
                       std::runtime_error);
  CHECK(harness::parse_videos_option("failures").failures);
  CHECK(harness::parse_videos_option("3").first_episodes == 3);
}

TEST_CASE("video font: letters, digits and wrapping") {
  envs::Image image;
  image.width = 80;
  image.height = 12;
  auto lit = [&](const std::string& text) {
    image.pixels.assign(size_t(image.width) * image.height * 3, 0);
    harness::draw_text(&image, 1, 1, text, 1);
    int count = 0;
    for (size_t i = 0; i < image.pixels.size(); i += 3) count += image.pixels[i] == 255;
    return count;
  };
  CHECK(lit("A") > 10);
  CHECK(lit("pick up") == lit("PICK UP"));
  CHECK(lit("I") != lit("O"));
  CHECK(lit("~") == lit("?"));  // characters the font lacks
  CHECK(harness::text_width("abc", 2) == (3 * 6 - 1) * 2);
  const auto lines = harness::wrap_text("put the black bowl on the plate", 12);
  CHECK(lines == std::vector<std::string>{"put the", "black bowl", "on the plate"});
}

TEST_CASE("progress: plain lines every fraction of the episodes, a live line on a terminal") {
  std::unique_ptr<FILE, decltype(&fclose)> file(std::tmpfile(), fclose);
  REQUIRE(file);
  {
    harness::ProgressSettings settings;
    settings.live = false;
    settings.fraction_step = 0.25;
    harness::Progress progress(8, 0, file.get(), settings);
    for (int i = 0; i < 8; ++i) progress.episode_done(i % 2 == 0, 100);
    CHECK(progress.status().find("[8/8 100%] success 50.0%") != std::string::npos);
  }
  std::rewind(file.get());
  std::string text(4096, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), file.get()));
  INFO(text);
  int lines = 0;
  for (char c : text) lines += c == '\n';
  CHECK(lines == 4);  // at 2, 4, 6 and 8 of 8 episodes
  CHECK(text.find("progress [2/8 25%] success 50.0%") != std::string::npos);
  CHECK(text.find("ETA") != std::string::npos);
  CHECK(text.find('\r') == std::string::npos);

  std::unique_ptr<FILE, decltype(&fclose)> live_file(std::tmpfile(), fclose);
  {
    harness::ProgressSettings settings;
    settings.live = true;
    harness::Progress progress(4, 1, live_file.get(), settings);
    progress.episode_done(true, 10);
  }
  std::rewind(live_file.get());
  std::string live(4096, '\0');
  live.resize(std::fread(live.data(), 1, live.size(), live_file.get()));
  CHECK(live.find("\r[2/4 50%] success 100.0%") != std::string::npos);
  CHECK(live.back() == '\n');
  CHECK(harness::format_duration(3725) == "1h02m");
  CHECK(harness::format_duration(190) == "3m10s");
}
