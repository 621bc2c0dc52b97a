// The dispatch check: the opaque-JSON parser on good, truncated, garbage and deep input, the
// rules at a fixed clock, and the collector reading real files through a FakeOs (with a
// fault wrapper for permission errors, since root reads anything).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "collectors/dispatch/dispatch_check.h"
#include "collectors/dispatch/dispatch_file.h"
#include "tests/support/alloc_meter.h"
#include "tests/support/fake_os.h"
#include "tests/support/temp_dir.h"

using namespace fleet;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// Sets a file's mtime to FakeEpoch() - age.
void SetAge(const std::string& path, std::chrono::seconds age) {
  const auto when = testing::FakeEpoch() - age;
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch());
  struct timespec times[2] = {{secs.count(), 0}, {secs.count(), 0}};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

CheckResult RunDispatch(const Os& os, const std::string& home, DispatchOptions options) {
  HermesTarget hermes{UserInfo{"hermes", 1000, 1000, "/home/hermes"}, home};
  CheckContext context{os, hermes, std::chrono::steady_clock::now() + 2s};
  return MakeDispatchCheck(std::move(options))->Run(context);
}

DispatchFileSeen Fresh(std::string path, std::chrono::seconds age) {
  DispatchFileSeen seen;
  seen.path = path;
  seen.shown = path;
  seen.present = true;
  seen.size_bytes = 120;
  seen.modified = testing::FakeEpoch() - age;
  seen.shape = JsonShape{"object", 3};
  return seen;
}

}  // namespace

TEST_CASE("dispatch: the parser tells the type and length of the top-level value") {
  auto object = ParseDispatchFile(testing::ReadTestData("hermes-home/fleet-dispatch-state.json"));
  REQUIRE(object.ok());
  CHECK(object->type == "object");
  CHECK(object->length == 3);
  auto array = ParseDispatchFile("[{\"task\": 1}, {\"task\": 2}]");
  CHECK(array->type == "array");
  CHECK(array->length == 2);
  auto text = ParseDispatchFile("\"h\u00e9llo\"");
  CHECK(text->type == "string");
  CHECK(text->length == 6);
  auto number = ParseDispatchFile("42.5");
  CHECK(number->type == "number");
  CHECK_FALSE(number->length.has_value());
  CHECK(ParseDispatchFile("null")->type == "null");
  CHECK(ParseDispatchFile("[]")->length == 0);
}

TEST_CASE("dispatch: truncated, empty, garbage and deep files are refused, printable") {
  const std::string text = testing::ReadTestData("hermes-home/fleet-dispatch-state.json");
  const std::size_t end = text.find_last_not_of(" \n");
  for (std::size_t cut = 0; cut < end; ++cut) {
    CHECK_FALSE(ParseDispatchFile(std::string_view(text).substr(0, cut)).ok());
  }
  CHECK(ParseDispatchFile("").error() == "the file is empty");
  CHECK(ParseDispatchFile("\n\n").error() == "the file is empty");
  auto binary = ParseDispatchFile(std::string("\x00\xff\xfe{\x01", 5));
  REQUIRE_FALSE(binary.ok());
  for (char c : binary.error()) CHECK((c >= 0x20 && c < 0x7f));
  auto deep = ParseDispatchFile(std::string(100000, '[') + std::string(100000, ']'));
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.error().find("nested deeper than") != std::string::npos);
}

TEST_CASE("dispatch: fresh, valid files are OK") {
  auto result = EvaluateDispatchFiles({Fresh("/a/state.json", 5min), Fresh("/b/queue.json", 12s)},
                                      testing::FakeEpoch(), 1h);
  CHECK(result.status == Status::kOk);
  CHECK(result.summary == "2 dispatch files present and valid JSON, oldest change 5m ago");
  const json& first = result.details["files"][0];
  CHECK(first["path"] == "/a/state.json");
  CHECK(first["present"] == true);
  CHECK(first["parses"] == true);
  CHECK(first["age_seconds"] == 300);
  CHECK(first["size_bytes"] == 120);
  CHECK(first["type"] == "object");
  CHECK(first["length"] == 3);
  CHECK(first["stale"] == false);
  CHECK(result.details["stale_after_seconds"] == 3600);
  CHECK(EvaluateDispatchFiles({}, testing::FakeEpoch(), 1h).summary ==
        "no dispatch files configured");
}

TEST_CASE("dispatch: missing, unparsable and stale files are each a WARNING naming the file") {
  DispatchFileSeen missing;
  missing.path = missing.shown = "/tmp/hermes/dispatch-queue.json";
  missing.problem = "/tmp/hermes/dispatch-queue.json is missing";
  auto gone =
      EvaluateDispatchFiles({Fresh("/a/state.json", 1min), missing}, testing::FakeEpoch(), 1h);
  CHECK(gone.status == Status::kWarning);
  CHECK(gone.summary == "/tmp/hermes/dispatch-queue.json is missing");
  CHECK(gone.details["files"][1]["present"] == false);
  CHECK(gone.details["files"][1]["parses"] == false);

  auto stale = EvaluateDispatchFiles({Fresh("/a/state.json", 3h + 5min)}, testing::FakeEpoch(), 1h);
  CHECK(stale.status == Status::kWarning);
  CHECK(stale.summary == "/a/state.json unchanged for 3h 5m (stale after 1h)");
  CHECK(stale.details["files"][0]["stale"] == true);
  CHECK(EvaluateDispatchFiles({Fresh("/a/state.json", 1h)}, testing::FakeEpoch(), 1h).status ==
        Status::kOk);

  DispatchFileSeen broken = Fresh("/a/state.json", 2h);
  broken.shape.reset();
  broken.problem = "/a/state.json: not valid JSON: parse error";
  auto both = EvaluateDispatchFiles({broken}, testing::FakeEpoch(), 1h);
  CHECK(both.status == Status::kWarning);
  CHECK(both.summary == "/a/state.json: not valid JSON: parse error (+1 more problem)");

  auto future = EvaluateDispatchFiles({Fresh("/a/state.json", -1h)}, testing::FakeEpoch(), 1h);
  CHECK(future.status == Status::kOk);
  CHECK(future.details["files"][0]["age_seconds"] == 0);
  CHECK(future.details["files"][0]["note"].get<std::string>().find("future") != std::string::npos);
}

TEST_CASE("dispatch: the collector on real files") {
  testing::TempDir dir;
  testing::FakeOs os;
  const std::string home = dir.Path("hermes");
  DispatchOptions options;
  options.files = {"fleet-dispatch-state.json", dir.Path("tmp-hermes/dispatch-queue.json")};
  options.stale_after = 1h;
  const std::string state =
      dir.WriteFile("hermes/fleet-dispatch-state.json",
                    testing::ReadTestData("hermes-home/fleet-dispatch-state.json"));
  const std::string queue = dir.WriteFile("tmp-hermes/dispatch-queue.json", "[1, 2, 3, 4]");
  SetAge(state, 10min);
  SetAge(queue, 30s);

  SUBCASE("both fine; relative paths are in the Hermes home") {
    auto result = RunDispatch(os, home, options);
    CHECK(result.status == Status::kOk);
    CHECK(result.details["files"][0]["path"] == state);
    CHECK(result.details["files"][0]["age_seconds"] == 600);
    CHECK(result.details["files"][1]["type"] == "array");
    CHECK(result.details["files"][1]["length"] == 4);
  }
  SUBCASE("missing") {
    std::filesystem::remove(queue);
    auto result = RunDispatch(os, home, options);
    CHECK(result.status == Status::kWarning);
    CHECK(result.summary == queue + " is missing");
  }
  SUBCASE("stale") {
    SetAge(state, 2h);
    auto result = RunDispatch(os, home, options);
    CHECK(result.status == Status::kWarning);
    CHECK(result.summary == state + " unchanged for 2h (stale after 1h)");
  }
  SUBCASE("unparsable") {
    dir.WriteFile("tmp-hermes/dispatch-queue.json", "[1, 2,");
    SetAge(queue, 1s);
    auto result = RunDispatch(os, home, options);
    CHECK(result.status == Status::kWarning);
    CHECK(result.summary.find(queue + ": not valid JSON: parse error at line 1") == 0);
  }
  SUBCASE("unreadable is the finding, said as such") {
    os.denied = queue;
    auto result = RunDispatch(os, home, options);
    CHECK(result.status == Status::kWarning);
    CHECK(result.summary == "cannot read " + queue + ": Permission denied");
  }
  SUBCASE("a directory, a FIFO, a dangling symlink, an oversized file") {
    std::filesystem::remove(queue);
    std::filesystem::create_directory(queue);
    CHECK(RunDispatch(os, home, options).summary == queue + " is a directory, not a file");
    std::filesystem::remove(queue);
    REQUIRE(::mkfifo(queue.c_str(), 0600) == 0);
    CHECK(RunDispatch(os, home, options).summary.find("not a regular file") != std::string::npos);
    std::filesystem::remove(queue);
    std::filesystem::create_symlink(dir.Path("nothing-here"), queue);
    CHECK(RunDispatch(os, home, options).summary == queue + " is a dangling symlink");
    std::filesystem::remove(queue);
    dir.WriteFile("tmp-hermes/dispatch-queue.json", "[");
    REQUIRE(::truncate(queue.c_str(), 100'000'000) == 0);
    SetAge(queue, 1s);
    CHECK(RunDispatch(os, home, options).summary ==
          queue + " is 95 MiB, over the 4.0 MiB limit; not read");
  }
  SUBCASE("a symlink is followed and reported") {
    std::filesystem::remove(queue);
    std::filesystem::create_symlink(state, queue);
    auto result = RunDispatch(os, home, options);
    CHECK(result.status == Status::kOk);
    CHECK(result.details["files"][1]["symlink"] == true);
    CHECK(result.details["files"][1]["type"] == "object");
  }
  SUBCASE("secret files are never read") {
    options.files = {".env", "auth.json", "config.yaml"};
    auto result = RunDispatch(os, home, options);
    CHECK(result.status == Status::kWarning);
    CHECK(result.summary.find("refusing to read " + home + "/.env") == 0);
    CHECK(result.details["files"][2]["parses"] == false);
  }
}

TEST_CASE("dispatch: a 4 MiB file of two million elements is read without a DOM of it") {
  std::string text = "[";
  text.reserve(4u << 20);
  while (text.size() < (4u << 20) - 4) text += "0,";
  text += "0]";
  testing::AllocMeter meter;
  auto shape = ParseDispatchFile(text);
  const std::size_t peak = meter.PeakAbove();
  REQUIRE(shape.ok());
  CHECK(shape->type == "array");
  CHECK(*shape->length == (text.size() - 1) / 2);
  // A DOM would hold 16 bytes per element (32 MiB) and the vector around them.
  CHECK_MESSAGE(peak < (64u << 10), "held " << peak << " bytes while parsing");
  auto nested = ParseDispatchFile(R"({"a": [1, {"b": [2, 3]}], "c": "x"})");
  REQUIRE(nested.ok());
  CHECK(nested->length == 2);
}

TEST_CASE("dispatch: in a directory others may write to, only the Hermes user's or root's files") {
  testing::PrivateTempDir dir;  // no shared directory above it but its own "tmp"
  testing::FakeOs os;
  const std::string home = dir.Path("hermes");
  const std::string shared = dir.Path("tmp");
  std::filesystem::create_directories(shared);
  REQUIRE(::chmod(shared.c_str(), 01777) == 0);
  const std::string queue = dir.WriteFile("tmp/hermes/dispatch-queue.json", "[1, 2]");
  SetAge(queue, 30s);
  DispatchOptions options;
  options.files = {queue};
  options.stale_after = 1h;
  os.users["mallory"] = UserInfo{"mallory", 4242, 4242, "/home/mallory"};

  SUBCASE("the Hermes user's file, in the Hermes user's directory: read") {
    os.owners[shared + "/hermes"] = 1000;
    os.owners[queue] = 1000;
    CHECK(RunDispatch(os, home, options).status == Status::kOk);
  }
  SUBCASE("another user's file: refused, never read") {
    os.owners[queue] = 4242;
    os.denied = queue;  // reading it would say "Permission denied" instead
    auto result = RunDispatch(os, home, options);
    CHECK(result.status == Status::kWarning);
    CHECK(result.summary == "refusing to read " + queue + ": " + queue + " is below " + shared +
                                ", which any local user may write to, and is owned by mallory, "
                                "not by the Hermes user hermes or root");
  }
  SUBCASE("a directory planted before Hermes made it: refused") {
    os.owners[shared + "/hermes"] = 4242;
    auto result = RunDispatch(os, home, options);
    CHECK(result.summary.find("refusing to read " + queue + ": " + shared + "/hermes is below") ==
          0);
  }
  SUBCASE("a symlink planted there, to a file root owns: refused") {
    const std::string target = dir.WriteFile("elsewhere/root-file.json", "{}");
    const std::string link = shared + "/link.json";
    std::filesystem::create_symlink(target, link);
    os.owners[link] = 4242;
    options.files = {link};
    auto result = RunDispatch(os, home, options);
    CHECK(result.summary.find("refusing to read " + link + ": " + link + " is below") == 0);
  }
  SUBCASE("outside a shared directory the owner does not matter") {
    const std::string own = dir.WriteFile("hermes/fleet-dispatch-state.json", "{}");
    SetAge(own, 30s);
    os.owners[own] = 4242;
    options.files = {own};
    CHECK(RunDispatch(os, home, options).status == Status::kOk);
  }
}

TEST_CASE("dispatch: a symlink to a Hermes secret file is refused, whatever its name") {
  testing::TempDir dir;
  testing::FakeOs os;
  const std::string home = dir.Path("hermes");
  const std::string secret = dir.WriteFile("hermes/.env", "OPENAI_API_KEY=sk-live-secret\n");
  const std::string link = dir.Path("hermes/queue.json");
  std::filesystem::create_symlink(secret, link);
  DispatchOptions options;
  options.files = {"queue.json"};
  auto result = RunDispatch(os, home, options);
  CHECK(result.status == Status::kWarning);
  CHECK(result.summary == "refusing to read " + link + ": it resolves to " + secret +
                              ", a Hermes secret file; fix checks.dispatch.files");
  CHECK(result.details.dump().find("sk-live") == std::string::npos);
}
