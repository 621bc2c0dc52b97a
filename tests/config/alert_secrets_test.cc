// LoadAlertSecrets / CheckAlertSecrets: the secrets the alerts: settings name, read from
// files and systemd credentials through the Os seam (FakeOs over a TempDir). Good files,
// credentials, and every way a secret file can be wrong: missing, a directory, a FIFO, too
// large, empty, several lines, a token with '/' or whitespace inside, a URL of the wrong
// kind, unreadable, open to others; and a known token sent through each of those paths
// never shows in an error or a warning.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "agent/config/alert_secrets.h"
#include "tests/support/fake_os.h"
#include "tests/support/temp_dir.h"

#include "tests/support/string_lists.h"  // error lists print one per line

using namespace fleet;

namespace {

constexpr char kSecretPart[] = "AAHk3pt-0ut_of_every-error";
const std::string kToken = std::string("123456789:") + kSecretPart;
const std::string kDiscordUrl = std::string("https://discord.com/api/webhooks/42/") + kSecretPart;
const std::string kWebhookUrl = std::string("https://hooks.example.org/alert?key=") + kSecretPart;

AlertSettings TelegramFrom(SecretSource source) {
  AlertSettings a;
  a.channels.telegram = TelegramSettings{};
  a.channels.telegram->token = std::move(source);
  a.channels.telegram->chat_id = "-1001234";
  a.channels.telegram->ackers = {7};
  return a;
}

AlertSettings TelegramFile(const std::string& path) { return TelegramFrom({path, ""}); }

AlertSettings DiscordFile(const std::string& path, std::string api_base = "") {
  AlertSettings a;
  a.channels.discord = DiscordSettings{{path, ""}, std::move(api_base)};
  return a;
}

AlertSettings WebhookFile(const std::string& path) {
  AlertSettings a;
  a.channels.webhook = WebhookSettings{{path, ""}};
  return a;
}

// The one error reading gives; nothing unchecked.
std::string OneError(const AlertSettings& a, const Os& os, std::string_view credentials = "") {
  AlertSecretsCheck check = CheckAlertSecrets(a, os, credentials);
  CHECK(check.unchecked.empty());
  REQUIRE(check.errors.size() == 1);
  return check.errors[0];
}

}  // namespace

TEST_CASE("every channel's secret, from files and credentials, trimmed") {
  testing::TempDir dir;
  testing::FakeOs os;
  AlertSettings a = TelegramFile(dir.WriteFile("telegram.token", kToken + "\n", 0600));
  a.channels.discord =
      DiscordSettings{{dir.WriteFile("discord.url", "  " + kDiscordUrl + "\r\n", 0400), ""}, ""};
  a.channels.webhook = WebhookSettings{{dir.WriteFile("hook.url", kWebhookUrl, 0600), ""}};
  a.escalation.telegram = TelegramSettings{};
  a.escalation.telegram->token = {"", "escalation.token"};
  a.escalation.webhook = WebhookSettings{{"", "escalation.url"}};
  dir.WriteFile("credentials/escalation.token", "987:escalation-bot\n", 0400);
  dir.WriteFile("credentials/escalation.url", "http://127.0.0.1:9093/hook\n", 0400);

  auto secrets = LoadAlertSecrets(a, os, dir.Path("credentials"));
  REQUIRE_MESSAGE(secrets.ok(), (secrets.ok() ? "" : secrets.error()));
  CHECK(secrets->channels.telegram_token == kToken);
  CHECK(secrets->channels.discord_webhook_url == kDiscordUrl);
  CHECK(secrets->channels.webhook_url == kWebhookUrl);
  CHECK(secrets->escalation.telegram_token == "987:escalation-bot");
  CHECK(secrets->escalation.discord_webhook_url.empty());
  CHECK(secrets->escalation.webhook_url == "http://127.0.0.1:9093/hook");
  CHECK(secrets->warnings.empty());

  // A trailing '/' on $CREDENTIALS_DIRECTORY changes nothing.
  CHECK(LoadAlertSecrets(a, os, dir.Path("credentials/")).ok());
}

TEST_CASE("alerting off: nothing is read") {
  testing::FakeOs os;
  AlertSecretsCheck check = CheckAlertSecrets(AlertSettings{}, os, "");
  CHECK(check.errors.empty());
  CHECK(check.unchecked.empty());
  CHECK(check.secrets.channels.telegram_token.empty());
  CHECK(LoadAlertSecrets(AlertSettings{}, os, "").ok());
}

TEST_CASE("systemd credentials: read from $CREDENTIALS_DIRECTORY, or not checked without it") {
  testing::TempDir dir;
  testing::FakeOs os;
  const AlertSettings a = TelegramFrom({"", "telegram.token"});
  AlertSecretsCheck check = CheckAlertSecrets(a, os, "");
  CHECK(check.errors.empty());
  CHECK(check.unchecked ==
        std::vector<std::string>{"alerts.telegram.token_credential: telegram.token: "
                                 "$CREDENTIALS_DIRECTORY is not set (systemd sets it for a unit "
                                 "with LoadCredential=telegram.token:/path)"});
  // The daemon has nothing to send with: that is an error there.
  auto load = LoadAlertSecrets(a, os, "");
  REQUIRE_FALSE(load.ok());
  CHECK(load.error() == check.unchecked[0]);

  CHECK(OneError(a, os, "credentials") ==
        "alerts.telegram.token_credential: telegram.token: $CREDENTIALS_DIRECTORY is not an "
        "absolute path");
  CHECK(OneError(a, os, dir.path()) == "alerts.telegram.token_credential: telegram.token (" +
                                           dir.Path("telegram.token") + ") does not exist");
  dir.WriteFile("telegram.token", kToken, 0400);
  CHECK(LoadAlertSecrets(a, os, dir.path())->channels.telegram_token == kToken);
}

TEST_CASE("files that cannot hold a secret") {
  testing::TempDir dir;
  testing::FakeOs os;
  const std::string missing = dir.Path("missing.token");
  CHECK(OneError(TelegramFile(missing), os) ==
        "alerts.telegram.token_file: " + missing + " does not exist");
  CHECK(OneError(TelegramFile(dir.path()), os) == "alerts.telegram.token_file: " + dir.path() +
                                                      " is a directory, not a file holding the "
                                                      "secret");
  const std::string fifo = dir.Path("fifo.token");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);  // no writer: a blocking open would hang
  CHECK(OneError(TelegramFile(fifo), os) == "alerts.telegram.token_file: " + fifo +
                                                " is not a regular file (a FIFO, socket or "
                                                "device)");
  CHECK(OneError(TelegramFile("/dev/null"), os) ==
        "alerts.telegram.token_file: /dev/null is not a regular file (a FIFO, socket or device)");

  const std::string big = dir.WriteFile("big.token", kToken + std::string(5000, ' '), 0600);
  CHECK(OneError(TelegramFile(big), os) ==
        "alerts.telegram.token_file: " + big + " is too large (" +
            std::to_string(kToken.size() + 5000) +
            " bytes); a secret file holds one line of at most 4 KiB");
  // 4 KiB exactly is still a secret file (here: the token and padding that is trimmed).
  const std::string limit =
      dir.WriteFile("limit.token", kToken + std::string(4096 - kToken.size(), '\n'), 0600);
  CHECK(LoadAlertSecrets(TelegramFile(limit), os, "")->channels.telegram_token == kToken);

  const std::string empty = dir.WriteFile("empty.token", "", 0600);
  CHECK(OneError(TelegramFile(empty), os) ==
        "alerts.telegram.token_file: " + empty + " is empty (write the secret on one line)");
  const std::string blank = dir.WriteFile("blank.token", " \n\n\t\n", 0600);
  CHECK(OneError(TelegramFile(blank), os) ==
        "alerts.telegram.token_file: " + blank + " is empty (write the secret on one line)");
  const std::string two = dir.WriteFile("two.token", kToken + "\n" + kToken + "\n", 0600);
  CHECK(OneError(TelegramFile(two), os) == "alerts.telegram.token_file: " + two +
                                               " holds more than one line (a secret file holds "
                                               "the secret alone, on one line)");
}

TEST_CASE("a token with '/' or whitespace inside, or not a token at all") {
  testing::TempDir dir;
  testing::FakeOs os;
  const std::string shape =
      " (a bot token is the bot's number, ':', then letters, digits, '_' and '-', as @BotFather "
      "gives it)";
  const std::string slash = dir.WriteFile("slash.token", "123:abc/../getMe\n", 0600);
  CHECK(OneError(TelegramFile(slash), os) == "alerts.telegram.token_file: " + slash +
                                                 " holds a character a bot token never has" +
                                                 shape);
  const std::string space = dir.WriteFile("space.token", "123:abc def\n", 0600);
  CHECK(OneError(TelegramFile(space), os) ==
        "alerts.telegram.token_file: " + space + " holds whitespace inside the token" + shape);
  const std::string tab = dir.WriteFile("tab.token", "123:abc\tdef\n", 0600);
  CHECK(OneError(TelegramFile(tab), os).ends_with(" holds whitespace inside the token" + shape));
  const std::string url = dir.WriteFile("url.token", kDiscordUrl, 0600);
  CHECK(OneError(TelegramFile(url), os) ==
        "alerts.telegram.token_file: " + url + " does not hold a Telegram bot token" + shape);
  const std::string control = dir.WriteFile("control.token", "123:abc\x1b[2J\n", 0600);
  CHECK(OneError(TelegramFile(control), os) ==
        "alerts.telegram.token_file: " + control + " holds a control character");
}

TEST_CASE("webhook URLs: Discord's own unless api_base is set; http only to loopback") {
  testing::TempDir dir;
  testing::FakeOs os;
  const std::string fake =
      dir.WriteFile("fake.url", "http://127.0.0.1:8080/api/webhooks/1/t", 0600);
  CHECK(OneError(DiscordFile(fake), os) ==
        "alerts.discord.webhook_url_file: " + fake +
            " does not hold a Discord webhook URL (https://discord.com/api/webhooks/<id>/<token>, "
            "as Discord's channel settings copy it; for another server, give the channel an "
            "api_base)");
  CHECK(LoadAlertSecrets(DiscordFile(fake, "http://127.0.0.1:8080"), os, "")
            ->channels.discord_webhook_url == "http://127.0.0.1:8080/api/webhooks/1/t");

  const std::string remote = dir.WriteFile("remote.url", "http://hooks.example.org/x", 0600);
  CHECK(OneError(WebhookFile(remote), os) ==
        "alerts.webhook.url_file: " + remote +
            " holds a URL that is plain http to another machine (http:// is only for a loopback "
            "address)");
  CHECK(OneError(DiscordFile(remote, "http://127.0.0.1:8080"), os) ==
        "alerts.discord.webhook_url_file: " + remote +
            " holds a URL that is plain http to another machine (http:// is only for a loopback "
            "address)");
  const std::string path = dir.WriteFile("path.url", "/api/webhooks/1/t", 0600);
  CHECK(OneError(WebhookFile(path), os) ==
        "alerts.webhook.url_file: " + path + " holds a URL that is not an https:// URL");
}

TEST_CASE("a file open to group or others: used, with one warning") {
  testing::TempDir dir;
  testing::FakeOs os;
  const std::string open = dir.WriteFile("open.token", kToken, 0644);
  AlertSettings a = TelegramFile(open);
  a.escalation.telegram = a.channels.telegram;  // the same file twice: one warning
  a.escalate_after = std::chrono::minutes(20);
  auto secrets = LoadAlertSecrets(a, os, "");
  REQUIRE(secrets.ok());
  CHECK(secrets->channels.telegram_token == kToken);
  CHECK(secrets->escalation.telegram_token == kToken);
  CHECK(secrets->warnings == std::vector<std::string>{"alerts.telegram.token_file: " + open +
                                                      " is open to group or others (mode 0644); "
                                                      "chmod 600 it"});
  const std::string group = dir.WriteFile("group.token", kToken, 0640);
  CHECK(LoadAlertSecrets(TelegramFile(group), os, "")->warnings.size() == 1);
  const std::string owner = dir.WriteFile("owner.token", kToken, 0600);
  CHECK(LoadAlertSecrets(TelegramFile(owner), os, "")->warnings.empty());
}

TEST_CASE("a file this user may not read: not checked, and an error for the daemon") {
  testing::TempDir dir;
  testing::FakeOs os;
  os.denied = dir.WriteFile("root-only.token", kToken, 0600);
  AlertSecretsCheck check = CheckAlertSecrets(TelegramFile(os.denied), os, "");
  CHECK(check.errors.empty());
  CHECK(check.unchecked == std::vector<std::string>{"alerts.telegram.token_file: " + os.denied +
                                                    ": Permission denied"});
  auto load = LoadAlertSecrets(TelegramFile(os.denied), os, "");
  REQUIRE_FALSE(load.ok());
  CHECK(load.error() == check.unchecked[0]);
}

TEST_CASE("several problems: all of them, on one line for the daemon") {
  testing::TempDir dir;
  testing::FakeOs os;
  AlertSettings a = TelegramFile(dir.Path("none.token"));
  a.channels.webhook = WebhookSettings{{dir.WriteFile("empty.url", "\n", 0600), ""}};
  a.escalation.discord = DiscordSettings{{"", "discord.url"}, ""};
  a.escalate_after = std::chrono::minutes(20);
  auto load = LoadAlertSecrets(a, os, "");
  REQUIRE_FALSE(load.ok());
  CHECK(load.error() == "alerts.telegram.token_file: " + dir.Path("none.token") +
                            " does not exist; " +
                            "alerts.webhook.url_file: " + dir.Path("empty.url") +
                            " is empty (write the secret on one line); "
                            "alerts.escalation.discord.webhook_url_credential: discord.url: "
                            "$CREDENTIALS_DIRECTORY is not set (systemd sets it for a unit with "
                            "LoadCredential=discord.url:/path)");
}

TEST_CASE("a known token through every error path: never in an error or a warning") {
  testing::TempDir dir;
  testing::FakeOs os;
  std::vector<AlertSettings> cases;
  // Files that hold the token but are wrong around it.
  cases.push_back(TelegramFile(dir.WriteFile("big", kToken + std::string(5000, 'A'), 0600)));
  cases.push_back(TelegramFile(dir.WriteFile("lines", kToken + "\n" + kToken, 0600)));
  cases.push_back(TelegramFile(dir.WriteFile("slash", kToken + "/x", 0600)));
  cases.push_back(
      TelegramFile(dir.WriteFile("space", "123:" + std::string(kSecretPart) + " x", 0600)));
  cases.push_back(TelegramFile(dir.WriteFile("lead", "x" + kToken, 0600)));
  cases.push_back(TelegramFile(dir.WriteFile("control", kToken + "\x07", 0600)));
  cases.push_back(TelegramFile(dir.WriteFile("open", kToken, 0666)));  // a warning
  os.denied = dir.WriteFile("denied", kToken, 0600);
  cases.push_back(TelegramFile(os.denied));
  // The token in webhook URLs of the wrong kind.
  cases.push_back(DiscordFile(dir.WriteFile(
      "d1", "https://evil.example/api/webhooks/1/" + std::string(kSecretPart), 0600)));
  cases.push_back(DiscordFile(dir.WriteFile("d2", kDiscordUrl + "#frag", 0600)));
  cases.push_back(DiscordFile(
      dir.WriteFile("d3", "http://discord.com/api/webhooks/1/" + std::string(kSecretPart), 0600)));
  cases.push_back(DiscordFile(dir.WriteFile(
      "d4", "https://" + std::string(kSecretPart) + "@discord.com/api/webhooks/1/t", 0600)));
  cases.push_back(DiscordFile(dir.WriteFile("d5", kDiscordUrl + "/extra", 0644)));
  cases.push_back(WebhookFile(
      dir.WriteFile("w1", "http://hooks.example.org/" + std::string(kSecretPart), 0600)));
  cases.push_back(WebhookFile(dir.WriteFile("w2", "ftp://" + std::string(kSecretPart), 0600)));
  cases.push_back(WebhookFile(dir.WriteFile("w3", kWebhookUrl + " " + kWebhookUrl, 0600)));
  // A credential whose file holds a bad token.
  dir.WriteFile("credentials/telegram.token", kToken + "\n" + kToken, 0600);
  cases.push_back(TelegramFrom({"", "telegram.token"}));

  std::size_t said = 0;
  for (const auto& a : cases) {
    AlertSecretsCheck check = CheckAlertSecrets(a, os, dir.Path("credentials"));
    std::vector<std::string> lines = check.errors;
    lines.insert(lines.end(), check.unchecked.begin(), check.unchecked.end());
    lines.insert(lines.end(), check.secrets.warnings.begin(), check.secrets.warnings.end());
    auto load = LoadAlertSecrets(a, os, dir.Path("credentials"));
    if (!load.ok()) lines.push_back(load.error());
    CHECK_FALSE(lines.empty());  // every case has something to say
    for (const auto& line : lines) {
      INFO(line);
      CHECK(line.find(kSecretPart) == std::string::npos);
      ++said;
    }
  }
  CHECK(said >= 2 * cases.size());
}
