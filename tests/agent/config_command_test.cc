// `fleet-agent config check FILE` (RunConfigCheck over FakeOs): the configuration's errors,
// and with alerts: on, the secrets it names read as the daemon reads them; what it prints
// for a missing, unreadable or group-readable secret file and for a credential outside its
// unit, and that it never prints a secret.
#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include "agent/cli/config_command.h"
#include "tests/support/fake_os.h"
#include "tests/support/temp_dir.h"

using namespace fleet;

namespace {

constexpr char kSecretPart[] = "AAHn3ver-pr1nted_by-config-check";
const std::string kToken = std::string("123456789:") + kSecretPart;

struct Run {
  int code = -1;
  std::string out;
  std::string err;
};

Run ConfigCheck(const std::string& file, const Os& os, bool read_secrets = true) {
  std::ostringstream out;
  std::ostringstream err;
  Run run;
  run.code = RunConfigCheck(file, os, out, err, read_secrets);
  run.out = out.str();
  run.err = err.str();
  CHECK(run.out.find(kSecretPart) == std::string::npos);
  CHECK(run.err.find(kSecretPart) == std::string::npos);
  return run;
}

// A configuration whose telegram channel reads its token from `source_line`.
std::string WriteConfig(const testing::TempDir& dir, const std::string& source_line) {
  return dir.WriteFile("agent.yaml", "alerts:\n  telegram:\n    " + source_line +
                                         "\n    chat_id: \"-1001234\"\n    ackers: [7]\n");
}

}  // namespace

TEST_CASE("config check: no alerts, nothing to read") {
  testing::TempDir dir;
  testing::FakeOs os;
  const std::string file = dir.WriteFile("agent.yaml", "node: {id: a}\n");
  Run run = ConfigCheck(file, os);
  CHECK(run.code == 0);
  CHECK(run.out == file + ": valid\n");
  CHECK(run.err.empty());
}

TEST_CASE("config check: the token file read and right") {
  testing::TempDir dir;
  testing::FakeOs os;
  const std::string token = dir.WriteFile("telegram.token", kToken + "\n", 0600);
  const std::string file = WriteConfig(dir, "token_file: " + token);
  Run run = ConfigCheck(file, os);
  CHECK(run.code == 0);
  CHECK(run.out == file + ": valid\n");
  CHECK(run.err.empty());
}

TEST_CASE("config check: a secret that is wrong makes the file invalid") {
  testing::TempDir dir;
  testing::FakeOs os;
  const std::string token = dir.Path("telegram.token");
  const std::string file = WriteConfig(dir, "token_file: " + token);
  Run run = ConfigCheck(file, os);
  CHECK(run.code == 1);
  CHECK(run.out.empty());
  CHECK(run.err == file + ": alerts.telegram.token_file: " + token + " does not exist\n" + file +
                       ": invalid (1 error)\n");

  dir.WriteFile("telegram.token", kToken + "/sendMessage\n", 0600);
  run = ConfigCheck(file, os);
  CHECK(run.code == 1);
  CHECK(run.err.find("holds a character a bot token never has") != std::string::npos);
}

TEST_CASE("config check --no-secrets: the file alone, for a configuration meant elsewhere") {
  testing::TempDir dir;
  testing::FakeOs os;
  const std::string file = WriteConfig(dir, "token_file: /etc/fleet-agent/telegram.token");
  Run run = ConfigCheck(file, os, false);
  CHECK(run.code == 0);
  CHECK(run.out == file + ": valid (secrets not read: --no-secrets)\n");
  CHECK(run.err.empty());
  // The file's own errors still count.
  const std::string bad = dir.WriteFile("bad.yaml", "alerts:\n  telegram: {chat_id: 1}\n");
  CHECK(ConfigCheck(bad, os, false).code == 1);
}

TEST_CASE("config check: the configuration's own errors come first, secrets unread") {
  testing::TempDir dir;
  testing::FakeOs os;
  const std::string file = dir.WriteFile(
      "agent.yaml", "alerts:\n  telegram: {token: " + kToken + ", chat_id: 1, ackers: [7]}\n");
  Run run = ConfigCheck(file, os);
  CHECK(run.code == 1);
  CHECK(run.err.starts_with(file + ":2:21: alerts.telegram.token: the bot token is a secret"));
  CHECK(run.err.ends_with(file + ": invalid (1 error)\n"));
}

TEST_CASE("config check: group-readable is a warning; unreadable is not checked") {
  testing::TempDir dir;
  testing::FakeOs os;
  const std::string token = dir.WriteFile("telegram.token", kToken, 0644);
  const std::string file = WriteConfig(dir, "token_file: " + token);
  Run run = ConfigCheck(file, os);
  CHECK(run.code == 0);
  CHECK(run.out == file + ": valid\n");
  CHECK(run.err == file + ": warning: alerts.telegram.token_file: " + token +
                       " is open to group or others (mode 0644); chmod 600 it\n");

  os.denied = token;  // `config check` run by hand, not as root
  run = ConfigCheck(file, os);
  CHECK(run.code == 0);
  CHECK(run.out == file + ": valid (1 secret not checked as this user)\n");
  CHECK(run.err ==
        file + ": not checked: alerts.telegram.token_file: " + token + ": Permission denied\n");
}

TEST_CASE("config check: a credential, inside and outside its unit") {
  testing::TempDir dir;
  testing::FakeOs os;
  const std::string file = WriteConfig(dir, "token_credential: telegram.token");
  Run run = ConfigCheck(file, os);
  CHECK(run.code == 0);
  CHECK(run.out == file + ": valid (1 secret not checked as this user)\n");
  CHECK(run.err.find("not checked: alerts.telegram.token_credential: telegram.token: "
                     "$CREDENTIALS_DIRECTORY is not set") != std::string::npos);

  os.env["CREDENTIALS_DIRECTORY"] = dir.Path("credentials");
  run = ConfigCheck(file, os);
  CHECK(run.code == 1);
  CHECK(run.err.find("(" + dir.Path("credentials/telegram.token") + ") does not exist") !=
        std::string::npos);

  dir.WriteFile("credentials/telegram.token", kToken, 0400);
  run = ConfigCheck(file, os);
  CHECK(run.code == 0);
  CHECK(run.out == file + ": valid\n");
  CHECK(run.err.empty());
}

TEST_CASE("config check: with an error, the warnings and unchecked secrets are still told") {
  testing::TempDir dir;
  testing::FakeOs os;
  const std::string open = dir.WriteFile("telegram.token", kToken, 0644);
  const std::string file = dir.WriteFile(
      "agent.yaml", "alerts:\n  telegram: {token_file: " + open +
                        ", chat_id: 1, ackers: [7]}\n  discord: {webhook_url_file: " +
                        dir.Path("missing.url") + "}\n  webhook: {url_credential: hook.url}\n");
  Run run = ConfigCheck(file, os);
  CHECK(run.code == 1);
  CHECK(run.out.empty());
  CHECK(run.err ==
        file + ": alerts.discord.webhook_url_file: " + dir.Path("missing.url") +
            " does not exist\n" + file + ": warning: alerts.telegram.token_file: " + open +
            " is open to group or others (mode 0644); chmod 600 it\n" + file +
            ": not checked: alerts.webhook.url_credential: hook.url: $CREDENTIALS_DIRECTORY is "
            "not set (systemd sets it for a unit with LoadCredential=hook.url:/path)\n" +
            file + ": invalid (1 error)\n");
}
