// The real chat transport (libcurl) and the channels over it, against the fake chat server
// (fakes/fake_chat.py) on loopback: Telegram send and edit, Discord send and PATCH, the webhook,
// the headers every request carries; 429s whose wait is read from the body, from Discord's
// X-RateLimit-Reset-After and from Retry-After, and honoured; a getUpdates long poll that a
// button press ends, and 409 for an older poller; a hung server ending at the deadline with an
// error that holds no URL or token; replies over the cap (with and without Content-Length);
// plain http to another machine refused before anything is sent, by name and by the address
// connected to (a proxy elsewhere); and the abort flag ending a hung exchange promptly.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "alerting/channels.h"
#include "alerting/chat_transport.h"
#include "alerting/telegram_bot.h"
#include "tests/support/skip.h"
#include "tests/support/temp_dir.h"

extern char** environ;

using namespace fleet;
using namespace fleet::alerting;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

constexpr char kToken[] = "5550001:AAH-s3cr3t-T0KEN";
constexpr char kDiscordPath[] = "/api/webhooks/77/d1sc0rd-s3cr3t-T0KEN";

using Clock = std::chrono::steady_clock;

bool WaitFor(const std::function<bool()>& done, Clock::duration within) {
  const auto until = Clock::now() + within;
  while (Clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

bool OnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

ChatTransportOptions Options(std::chrono::milliseconds timeout = 10s) {
  ChatTransportOptions options;
  options.connect_timeout = 5s;
  options.timeout = timeout;
  return options;
}

std::unique_ptr<ChatTransport> Transport(const ChatTransportOptions& options = Options()) {
  auto transport = MakeCurlChatTransport(options);
  REQUIRE_MESSAGE(transport.ok(), transport.error());
  return std::move(*transport);
}

// The fake on a port of its own, stopped when the test case ends. Its control calls go
// through a transport of their own each, so any thread may make them.
class FakeChat {
 public:
  explicit FakeChat(const testing::TempDir& dir) : port_file_(dir.Path("fake_chat.port")) {
    const std::string log = dir.Path("fake_chat.log");
    std::vector<std::string> args{"python3",  FLEET_FAKE_CHAT,    "--port-file",
                                  port_file_, "--telegram-token", kToken};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&files, 1, 2);
    const int spawned = posix_spawnp(&pid_, "python3", &files, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&files);
    REQUIRE_MESSAGE(spawned == 0, "cannot start python3: ", std::strerror(spawned));
    const bool up = WaitFor([&] { return !ReadAll(port_file_).empty(); }, 10s);
    REQUIRE_MESSAGE(up, "the fake chat server did not start: ", ReadAll(log));
    url_ = "http://127.0.0.1:" + std::to_string(std::stoi(ReadAll(port_file_)));
  }
  ~FakeChat() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  FakeChat(const FakeChat&) = delete;
  FakeChat& operator=(const FakeChat&) = delete;

  const std::string& url() const { return url_; }

  json Control(const std::string& what, const json& body = json::object()) const {
    ChatRequest request;
    request.url = url_ + "/_fake/" + what;
    request.body = body.dump();
    auto reply = Transport()->Exchange(request);
    REQUIRE_MESSAGE(reply.ok(), reply.error());
    REQUIRE_MESSAGE(reply->status == 200, reply->body);
    return json::parse(reply->body);
  }
  json Calls() const { return Control("calls"); }
  void Script(const json& entries) const { Control("script", entries); }
  // How many calls so far went to a path ending in `suffix`.
  int CallsTo(std::string_view suffix) const {
    int count = 0;
    for (const json& call : Calls()) {
      const std::string path = call["path"];
      if (path.substr(0, path.find('?')).ends_with(suffix)) ++count;
    }
    return count;
  }

 private:
  std::string port_file_;
  pid_t pid_ = -1;
  std::string url_;
};

Alert Firing() {
  Alert a;
  a.key = "vps-fra-03/1/17";
  a.node = "vps-fra-03";
  a.checks.push_back({"tmux", Severity::kCritical, "session BURN2 is gone", "tmux new -d"});
  a.opened = 1764064800;
  return a;
}

Alert Acknowledged() {
  Alert a = Firing();
  a.state = AlertState::kAcknowledged;
  a.acked_by = "@alice";
  a.acked_at = 1764065400;
  return a;
}

// No part of a secret URL: the token, the address, the port, the path.
void CheckNothingOfTheUrl(const std::string& error, const FakeChat& fake) {
  INFO(error);
  CHECK_FALSE(error.empty());
  CHECK(error.find(kToken) == std::string::npos);
  CHECK(error.find("s3cr3t") == std::string::npos);
  CHECK(error.find("127.0.0.1") == std::string::npos);
  CHECK(error.find(fake.url().substr(fake.url().rfind(':') + 1)) == std::string::npos);
  CHECK(error.find("/bot") == std::string::npos);
}

// Sets an environment variable for one test case (libcurl reads the proxy variables).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

#define NEEDS_PYTHON()                                                                     \
  do {                                                                                     \
    if (!OnPath("python3")) FLEET_SKIP("python3 is not installed (the fake chat server)"); \
  } while (false)

TEST_CASE("chat transport: Telegram, Discord and the webhook through the real transport") {
  NEEDS_PYTHON();
  testing::TempDir dir;
  FakeChat fake(dir);
  auto transport = Transport();

  auto telegram = MakeTelegramChannel(*transport, fake.url(), kToken, "-100");
  ApiAnswer sent = telegram->Send(Firing());
  REQUIRE_MESSAGE(sent.verdict == ApiVerdict::kDone, sent.error);
  CHECK(sent.message_id == "1");
  json call = fake.Calls().back();
  CHECK(call["method"] == "POST");
  CHECK(call["path"] == std::string("/bot") + kToken + "/sendMessage");
  CHECK(call["headers"]["Content-Type"] == "application/json");
  CHECK(call["headers"]["User-Agent"] == "fleet-agent/" FLEET_VERSION);
  CHECK(call["body"]["chat_id"] == -100);
  CHECK(std::string(call["body"]["text"]).find("session BURN2 is gone") != std::string::npos);

  ApiAnswer edited = telegram->Edit(sent.message_id, Acknowledged());
  REQUIRE_MESSAGE(edited.verdict == ApiVerdict::kDone, edited.error);
  call = fake.Calls().back();
  CHECK(call["path"] == std::string("/bot") + kToken + "/editMessageText");
  CHECK(call["body"]["message_id"] == 1);
  // The same edit again (a restart between sending and recording it): the API says "not
  // modified", which is done.
  edited = telegram->Edit(sent.message_id, Acknowledged());
  CHECK_MESSAGE(edited.verdict == ApiVerdict::kDone, edited.error);

  auto discord = MakeDiscordChannel(*transport, fake.url() + kDiscordPath);
  sent = discord->Send(Firing());
  REQUIRE_MESSAGE(sent.verdict == ApiVerdict::kDone, sent.error);
  CHECK(sent.message_id.size() >= 18);
  edited = discord->Edit(sent.message_id, Acknowledged());
  REQUIRE_MESSAGE(edited.verdict == ApiVerdict::kDone, edited.error);
  call = fake.Calls().back();
  CHECK(call["method"] == "PATCH");
  CHECK(call["path"] == std::string(kDiscordPath) + "/messages/" + sent.message_id);
  CHECK(call["body"]["embeds"][0]["color"] == 0x3498DB);                      // acknowledged: blue
  CHECK(discord->Edit("1", Acknowledged()).verdict == ApiVerdict::kRefused);  // unknown message

  auto webhook = MakeWebhookChannel(*transport, fake.url() + "/hook/ops");
  sent = webhook->Send(Firing());
  CHECK_MESSAGE(sent.verdict == ApiVerdict::kDone, sent.error);
  call = fake.Calls().back();
  CHECK(call["path"] == "/hook/ops");
  CHECK(call["body"]["version"] == "4");
  CHECK(call["body"]["groupKey"] == "vps-fra-03/1/17");

  // A wrong token: refused, and the error names neither token.
  auto stranger = MakeTelegramChannel(*transport, fake.url(), "999:WRONG-s3cr3t", "-100");
  const ApiAnswer refused = stranger->Send(Firing());
  CHECK(refused.verdict == ApiVerdict::kRefused);
  CheckNothingOfTheUrl(refused.error, fake);
}

TEST_CASE("chat transport: a 429's wait, from the body, X-RateLimit-Reset-After or Retry-After") {
  NEEDS_PYTHON();
  testing::TempDir dir;
  FakeChat fake(dir);
  auto transport = Transport();
  auto telegram = MakeTelegramChannel(*transport, fake.url(), kToken, "-100");
  fake.Script(json::array({{{"match", "sendMessage"},
                            {"status", 429},
                            {"body",
                             {{"ok", false},
                              {"error_code", 429},
                              {"description", "Too Many Requests: retry after 1"},
                              {"parameters", {{"retry_after", 1}}}}}}}));
  ApiAnswer answer = telegram->Send(Firing());
  REQUIRE(answer.verdict == ApiVerdict::kRateLimited);
  CHECK(answer.retry_after == 1s);
  // The caller honours it, and the message goes.
  std::this_thread::sleep_for(answer.retry_after);
  answer = telegram->Send(Firing());
  CHECK_MESSAGE(answer.verdict == ApiVerdict::kDone, answer.error);
  const json calls = fake.Calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls[1]["time"].get<double>() - calls[0]["time"].get<double>() >= 1.0);

  // Discord: the header, through libcurl's header callback (the body says nothing).
  fake.Script(json::array({{{"match", "webhooks"},
                            {"status", 429},
                            {"body", "rate limited"},
                            {"headers", {{"X-RateLimit-Reset-After", "1.5"}}}}}));
  auto discord = MakeDiscordChannel(*transport, fake.url() + kDiscordPath);
  answer = discord->Send(Firing());
  CHECK(answer.verdict == ApiVerdict::kRateLimited);
  CHECK(answer.retry_after == 1500ms);

  // The webhook: Retry-After, as libcurl reads it; and the raw reply carries both.
  fake.Script(
      json::array({{{"match", "/hook/"},
                    {"status", 429},
                    {"headers", {{"Retry-After", "2"}, {"X-RateLimit-Reset-After", "0.25"}}}}}));
  ChatRequest request;
  request.url = fake.url() + "/hook/raw";
  request.body = "{}";
  auto reply = transport->Exchange(request);
  REQUIRE_MESSAGE(reply.ok(), reply.error());
  CHECK(reply->status == 429);
  CHECK(reply->retry_after == 2);
  CHECK(reply->reset_after == 0.25);
  fake.Script(
      json::array({{{"match", "/hook/"}, {"status", 429}, {"headers", {{"Retry-After", "2"}}}}}));
  answer = MakeWebhookChannel(*transport, fake.url() + "/hook/ops")->Send(Firing());
  CHECK(answer.verdict == ApiVerdict::kRateLimited);
  CHECK(answer.retry_after == 2s);
}

TEST_CASE("chat transport: getUpdates holds until a press; an older poller gets 409") {
  NEEDS_PYTHON();
  testing::TempDir dir;
  FakeChat fake(dir);
  // A transport deadline shorter than the poll: the poll's own (timeout + 10 s) must apply.
  auto transport = Transport(Options(1s));
  TelegramBot bot(*transport, fake.url(), kToken);
  std::thread presser([&] {
    try {  // (a failed check here shows as no press below)
      if (WaitFor([&] { return fake.CallsTo("/getUpdates") == 1; }, 10s)) {
        fake.Control("press", {{"from_id", 123},
                               {"username", "alice"},
                               {"data", "ack:vps-fra-03/1/17"},
                               {"message_id", 5},
                               {"chat_id", "-100"}});
      }
    } catch (...) {
    }
  });
  const auto started = Clock::now();
  TelegramBot::Polled polled = bot.Poll(0, 3);
  presser.join();
  REQUIRE_MESSAGE(polled.answer.verdict == ApiVerdict::kDone, polled.answer.error);
  REQUIRE(polled.updates.presses.size() == 1);
  CHECK(Clock::now() - started < 3s);  // the press ended the poll, not its timeout
  const ButtonPress& press = polled.updates.presses[0];
  CHECK(press.user_id == 123);
  CHECK(press.user_name == "@alice");
  CHECK(AlertKeyOf(press.data) == "vps-fra-03/1/17");
  CHECK(press.message_id == "5");
  CHECK(press.chat_id == "-100");
  CHECK(bot.Answer(press.callback_query_id, "Acknowledged").verdict == ApiVerdict::kDone);

  // Held to its timeout, past the transport's own 1 s deadline: an empty, done poll.
  polled = bot.Poll(polled.updates.next_offset, 2);
  CHECK_MESSAGE(polled.answer.verdict == ApiVerdict::kDone, polled.answer.error);
  CHECK(polled.updates.presses.empty());

  // Two pollers on one token: the older one is told 409, as the real API does.
  TelegramBot::Polled older;
  std::thread first([&] {
    try {
      auto own = Transport();
      older = TelegramBot(*own, fake.url(), kToken).Poll(0, 10);
    } catch (...) {
    }
  });
  const int polls = fake.CallsTo("/getUpdates");
  REQUIRE(WaitFor([&] { return fake.CallsTo("/getUpdates") == polls + 1; }, 10s));
  auto second = Transport();
  const TelegramBot::Polled newer = TelegramBot(*second, fake.url(), kToken).Poll(0, 1);
  first.join();
  CHECK(older.answer.verdict == ApiVerdict::kConflict);
  CHECK(older.answer.error.find("another getUpdates poller") != std::string::npos);
  CHECK(newer.answer.verdict == ApiVerdict::kDone);
}

TEST_CASE("chat transport: a hung server ends at the deadline, the error holding no URL") {
  NEEDS_PYTHON();
  testing::TempDir dir;
  FakeChat fake(dir);
  auto transport = Transport(Options(1s));
  fake.Script(json::array({{{"match", "sendMessage"}, {"hang", 30}, {"times", 2}}}));
  ChatRequest request;
  request.url = fake.url() + "/bot" + kToken + "/sendMessage";
  request.body = "{}";
  auto started = Clock::now();
  auto reply = transport->Exchange(request);
  auto took = Clock::now() - started;
  REQUIRE_FALSE(reply.ok());
  CHECK(took >= 900ms);
  CHECK(took < 5s);
  CHECK(reply.error() == "timed out after 1 s (no complete reply)");
  CheckNothingOfTheUrl(reply.error(), fake);

  auto telegram = MakeTelegramChannel(*transport, fake.url(), kToken, "-100");
  const ApiAnswer answer = telegram->Send(Firing());
  CHECK(answer.verdict == ApiVerdict::kRetryLater);
  CHECK(answer.error.starts_with("telegram sendMessage: timed out after 1 s"));
  CheckNothingOfTheUrl(answer.error, fake);
}

TEST_CASE("chat transport: a reply over the cap is an error, with or without Content-Length") {
  NEEDS_PYTHON();
  testing::TempDir dir;
  FakeChat fake(dir);
  ChatTransportOptions options = Options();
  options.max_reply_bytes = 4096;
  auto transport = Transport(options);
  const std::string big(10000, 'x');
  fake.Script(
      json::array({{{"match", "/hook/"}, {"status", 200}, {"body", big}},
                   {{"match", "/hook/"}, {"status", 200}, {"body", big}, {"no_length", true}},
                   {{"match", "/hook/"}, {"status", 200}, {"body", std::string(4000, 'y')}}}));
  ChatRequest request;
  request.url = fake.url() + "/hook/big";
  request.body = "{}";
  for (const char* how : {"announced by Content-Length", "read until the connection closed"}) {
    INFO(how);
    auto reply = transport->Exchange(request);
    REQUIRE_FALSE(reply.ok());
    CHECK(reply.error().starts_with("the reply is larger than "));
    CheckNothingOfTheUrl(reply.error(), fake);
  }
  auto reply = transport->Exchange(request);  // under the cap: whole
  REQUIRE_MESSAGE(reply.ok(), reply.error());
  CHECK(reply->body == std::string(4000, 'y'));
}

TEST_CASE("chat transport: plain http to another machine is refused before anything is sent") {
  NEEDS_PYTHON();
  testing::TempDir dir;
  FakeChat fake(dir);
  auto transport = Transport();
  for (const std::string& url :
       {std::string("http://10.255.255.1/bot") + kToken + "/sendMessage",
        std::string("http://example.invalid") + kDiscordPath,
        std::string("http://127.0.0.1:1@10.255.255.1/bot") + kToken + "/sendMessage",
        std::string("HTTP://10.255.255.1/hook/s3cr3t")}) {
    INFO(url);
    ChatRequest request;
    request.url = url;
    request.body = "{}";
    const auto started = Clock::now();
    auto reply = transport->Exchange(request);
    REQUIRE_FALSE(reply.ok());
    CHECK(Clock::now() - started < 1s);  // no connection was even tried (10.255.255.1 hangs)
    CHECK(reply.error().find("plain http:// goes only to a loopback address") != std::string::npos);
    CHECK(reply.error().find("nothing was sent") != std::string::npos);
    CheckNothingOfTheUrl(reply.error(), fake);
  }
  // By address: the name is loopback, but the connection would go to a proxy elsewhere.
  {
    ScopedEnv proxy("http_proxy", "http://10.255.255.1:3128");
    ScopedEnv no_proxy("no_proxy", nullptr);
    ScopedEnv no_proxy_upper("NO_PROXY", nullptr);
    auto proxied = Transport();
    ChatRequest request;
    request.url = fake.url() + "/hook/s3cr3t";
    request.body = "{}";
    const auto started = Clock::now();
    auto reply = proxied->Exchange(request);
    REQUIRE_FALSE(reply.ok());
    CHECK(Clock::now() - started < 2s);
    CHECK(reply.error() ==
          "plain http:// goes only to a loopback address, and the host resolved to 10.255.255.1; "
          "nothing was sent");
  }
  CHECK(fake.Calls().empty());  // nothing reached the fake either
  // https goes to any address; to the fake, which speaks no TLS, it fails, naming nothing of it.
  ChatRequest tls;
  tls.url = "https://127.0.0.1:" + fake.url().substr(fake.url().rfind(':') + 1) + "/hook/s3cr3t";
  tls.body = "{}";
  auto reply = transport->Exchange(tls);
  REQUIRE_FALSE(reply.ok());
  CheckNothingOfTheUrl(reply.error(), fake);
}

TEST_CASE("chat transport: the abort flag ends a hung exchange promptly") {
  NEEDS_PYTHON();
  testing::TempDir dir;
  FakeChat fake(dir);
  std::atomic<bool> abort{false};
  ChatTransportOptions options = Options(60s);
  options.abort = &abort;
  auto transport = Transport(options);
  fake.Script(json::array({{{"match", "/hook/"}, {"hang", 60}}}));
  Clock::time_point abort_set{};
  std::thread stopper([&] {
    try {  // (a failed check here shows as no abort below)
      if (WaitFor([&] { return fake.CallsTo("/hook/hang") == 1; }, 10s)) {
        abort_set = Clock::now();
        abort = true;
      }
    } catch (...) {
    }
  });
  ChatRequest request;
  request.url = fake.url() + "/hook/hang";
  request.body = "{}";
  auto reply = transport->Exchange(request);
  const auto aborted_at = Clock::now();
  stopper.join();
  REQUIRE(abort.load());
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error() == "aborted before the reply was read");
  // libcurl looks at the flag at least once a second while it waits (the deadline was 60 s).
  CHECK(aborted_at - abort_set < 3s);
}
