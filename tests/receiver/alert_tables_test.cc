// The alerting tables on both stores (receiver/alerts/ over store/sql_link.h): leases (one
// holder; expiry lets another take over; the holder's renewal fails once it is gone), the
// outbox (claims: two connections never claim the same row and a channel's messages go in
// order; a claim that runs out leaves the row to another; holds, set-asides, the first
// message kept for edits; the bound drops reminders first), requests and their answers,
// operator channels.
#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "receiver/alerts/alert_leases.h"
#include "receiver/alerts/alert_outbox.h"
#include "receiver/alerts/alert_requests.h"
#include "receiver/alerts/operator_channels.h"
#include "tests/receiver/alert_world.h"

namespace fleet::receiver {
namespace {

using testing::kT0;

OutboxMessage Message(std::int64_t key, const std::string& channel,
                      const std::string& notice = "opened",
                      OutboxAction action = OutboxAction::kSend) {
  return {key, notice, channel, action, R"({"key":")" + std::to_string(key) + R"("})"};
}

TEST_CASE_TEMPLATE("a lease has one holder; it expires to another", Maker, FLEET_RECEIVER_STORES) {
  testing::AlertWorld<Maker> w;
  auto link_b = w.Link();
  AlertLeases a(*w.link), b(*link_b);
  CHECK(*a.Take(kWorkerLease, "a", kT0, 15));
  CHECK_FALSE(*b.Take(kWorkerLease, "b", kT0 + 1, 15));
  CHECK(*a.Take(kWorkerLease, "a", kT0 + 10, 15));  // renewed: until kT0 + 25
  CHECK_FALSE(*b.Take(kWorkerLease, "b", kT0 + 24, 15));
  // Another lease is independent.
  CHECK(*b.Take(kPollerLease, "b", kT0 + 24, 15));
  // a stops renewing: b takes it after it runs out, and a's fence fails.
  CHECK(*b.Take(kWorkerLease, "b", kT0 + 26, 15));
  CHECK(w.link->Begin().ok());
  CHECK_FALSE(*a.Renew(kWorkerLease, "a", kT0 + 27, 15));
  w.link->Rollback();
  auto found = a.Find(kWorkerLease);
  REQUIRE(found.ok());
  CHECK((*found)->holder == "b");
  // Released: taken at once.
  CHECK(b.Release(kWorkerLease, "b").ok());
  CHECK(*a.Take(kWorkerLease, "a", kT0 + 28, 15));
  // Values.
  CHECK(a.SetValue("telegram_offset", "42").ok());
  CHECK(a.SetValue("telegram_offset", "43").ok());
  CHECK(**b.Value("telegram_offset") == "43");
  CHECK_FALSE(b.Value("nothing")->has_value());
}

TEST_CASE_TEMPLATE("outbox claims: oldest first per channel, never two holders", Maker,
                   FLEET_RECEIVER_STORES) {
  testing::AlertWorld<Maker> w;
  AlertOutbox outbox(*w.link);
  REQUIRE(outbox
              .Queue({Message(1, "op-1.telegram"), Message(2, "op-1.telegram"),
                      Message(1, "op-1.discord")},
                     kT0)
              .ok());
  auto first = outbox.Claim("op-1.telegram", "a", kT0, 60);
  REQUIRE(first.ok());
  REQUIRE(first->has_value());
  CHECK((*first)->message.key == 1);
  // The channel is busy while a's claim lives: b gets nothing of it, not even the next row.
  auto link_b = w.Link();
  AlertOutbox outbox_b(*link_b);
  CHECK_FALSE(outbox_b.Claim("op-1.telegram", "b", kT0 + 1, 60)->has_value());
  CHECK(outbox_b.Claim("op-1.discord", "b", kT0 + 1, 60)->has_value());
  // Sent: the first message is kept for edits; the next row is free to claim.
  REQUIRE(outbox.MarkSent(**first, "a", "501", kT0 + 2).ok());
  CHECK(**outbox.FirstMessage(1, "op-1.telegram") == "501");
  auto second = outbox_b.Claim("op-1.telegram", "b", kT0 + 3, 60);
  REQUIRE(second->has_value());
  CHECK((*second)->message.key == 2);
  // b dies holding it: after the claim runs out, a takes it; b's late mark changes nothing.
  CHECK_FALSE(outbox.Claim("op-1.telegram", "a", kT0 + 60, 60)->has_value());
  auto retaken = outbox.Claim("op-1.telegram", "a", kT0 + 64, 60);
  REQUIRE(retaken->has_value());
  CHECK((*retaken)->id == (*second)->id);
  CHECK_FALSE(outbox_b.MarkSent(**second, "b", "502", kT0 + 65).ok());
  REQUIRE(outbox.MarkSent(**retaken, "a", "503", kT0 + 66).ok());
  CHECK(**outbox.FirstMessage(2, "op-1.telegram") == "503");
  auto counts = outbox.Counts();
  REQUIRE(counts.ok());
  CHECK(counts->at("op-1.telegram").sent == 2);
  CHECK(counts->at("op-1.telegram").pending == 0);
  CHECK(counts->at("op-1.discord").pending == 1);
}

TEST_CASE_TEMPLATE("outbox: holds, retries, set-asides, a clock gone back", Maker,
                   FLEET_RECEIVER_STORES) {
  testing::AlertWorld<Maker> w;
  AlertOutbox outbox(*w.link);
  REQUIRE(outbox.Queue({Message(1, "c.telegram"), Message(2, "c.telegram")}, kT0).ok());
  auto row = outbox.Claim("c.telegram", "a", kT0, 60);
  REQUIRE(row->has_value());
  // A rate limit holds the whole channel, in order.
  REQUIRE(outbox.HoldChannel("c.telegram", kT0 + 30, "429").ok());
  CHECK_FALSE(outbox.Claim("c.telegram", "a", kT0 + 29, 60)->has_value());
  row = outbox.Claim("c.telegram", "a", kT0 + 30, 60);
  REQUIRE(row->has_value());
  CHECK((*row)->message.key == 1);
  // A retry of this message.
  REQUIRE(outbox.Reschedule((*row)->id, "a", kT0 + 40, "503").ok());
  CHECK_FALSE(outbox.Claim("c.telegram", "a", kT0 + 35, 60)->has_value());
  // A due far ahead is a wall clock that went back: due now.
  REQUIRE(outbox.HoldChannel("c.telegram", kT0 + 100000, "x").ok());
  row = outbox.Claim("c.telegram", "a", kT0 + 36, 60);
  REQUIRE(row->has_value());
  CHECK((*row)->attempts == 1);
  REQUIRE(outbox.SetAside((*row)->id, "failed", "400 bad request", kT0 + 37).ok());
  auto next = outbox.Claim("c.telegram", "a", kT0 + 38, 60);
  REQUIRE(next->has_value());
  CHECK((*next)->message.key == 2);
  auto dropped = outbox.DropChannel("c.telegram", "gone", kT0 + 39);
  REQUIRE(dropped.ok());
  CHECK(*dropped == 1);
  auto counts = outbox.Counts();
  CHECK(counts->at("c.telegram").failed == 1);
  CHECK(counts->at("c.telegram").dropped == 1);
  CHECK(counts->at("c.telegram").pending == 0);
  REQUIRE(outbox.SetChannelState({"c.telegram", "refused", "401", std::nullopt, kT0}).ok());
  REQUIRE(outbox.SetChannelState({"c.telegram", "ok", std::nullopt, kT0 + 5, kT0 + 5}).ok());
  auto states = outbox.ChannelStates();
  REQUIRE(states->size() == 1);
  CHECK((*states)[0].state == "ok");
  CHECK((*states)[0].last_error == "401");  // the last error stays to be seen
  CHECK((*states)[0].last_sent == kT0 + 5);
  REQUIRE(outbox.Prune(kT0 + 100).ok());
  CHECK(w.Count("SELECT count(*) FROM alert_outbox") == 0);
}

TEST_CASE_TEMPLATE("the outbox is bounded per channel: reminders go first", Maker,
                   FLEET_RECEIVER_STORES) {
  testing::AlertWorld<Maker> w;
  AlertOutbox outbox(*w.link);
  std::vector<OutboxMessage> messages;
  for (int i = 0; i < 1100; ++i) messages.push_back(Message(i, "c.telegram"));
  for (int i = 0; i < 50; ++i) messages.push_back(Message(i, "c.telegram", "reminder"));
  for (int i = 0; i < 10; ++i) messages.push_back(Message(i, "other.discord"));
  REQUIRE(w.link->Begin().ok());
  REQUIRE(outbox.Queue(messages, kT0).ok());
  REQUIRE(w.link->Commit().ok());
  auto dropped = outbox.Bound(kT0, kMaxPendingPerChannel);
  REQUIRE(dropped.ok());
  CHECK(*dropped == 150);
  auto counts = outbox.Counts();
  CHECK(counts->at("c.telegram").pending == kMaxPendingPerChannel);
  CHECK(counts->at("other.discord").pending == 10);
  CHECK(w.Count("SELECT count(*) FROM alert_outbox WHERE state = 'dropped' AND "
                "notice = 'reminder'") == 50);
  // The oldest openings went next; the newest stay.
  CHECK(w.Count("SELECT min(alert_key) FROM alert_outbox WHERE state = 'pending' AND "
                "channel = 'c.telegram'") == 100);
}

TEST_CASE_TEMPLATE("two senders claiming at once send each row once, each channel in order", Maker,
                   FLEET_RECEIVER_STORES) {
  testing::AlertWorld<Maker> w;
  std::vector<OutboxMessage> messages;
  for (int i = 0; i < 120; ++i) {
    messages.push_back(Message(i, "op-" + std::to_string(i % 6) + ".telegram"));
  }
  REQUIRE(AlertOutbox(*w.link).Queue(messages, kT0).ok());
  std::mutex mutex;
  std::vector<std::pair<std::string, std::int64_t>> sent;  // (channel, id) in sending order
  std::map<std::int64_t, int> times;
  std::atomic<int> errors{0};
  auto sender = [&](const std::string& holder) {
    auto link = w.Link();
    AlertOutbox outbox(*link);
    for (int idle = 0; idle < 3;) {
      bool any = false;
      auto channels = outbox.Waiting();
      if (!channels) {
        ++errors;
        return;
      }
      for (const auto& channel : *channels) {
        auto row = outbox.Claim(channel, holder, kT0, 60);
        if (!row) {
          ++errors;
          continue;
        }
        if (!row->has_value()) continue;
        any = true;
        {
          std::lock_guard lock(mutex);
          sent.emplace_back(channel, (*row)->id);
          ++times[(*row)->id];
        }
        if (!outbox.MarkSent(**row, holder, std::to_string((*row)->id), kT0)) ++errors;
      }
      idle = any ? 0 : idle + 1;
    }
  };
  std::thread a(sender, "a"), b(sender, "b");
  a.join();
  b.join();
  CHECK(errors == 0);
  CHECK(times.size() == 120);
  for (const auto& [id, n] : times) CHECK_MESSAGE(n == 1, "row ", id, " sent ", n, " times");
  std::map<std::string, std::int64_t> last;
  for (const auto& [channel, id] : sent) {
    CHECK_MESSAGE(id > last[channel], channel, ": row ", id, " after ", last[channel]);
    last[channel] = id;
  }
  CHECK(w.Count("SELECT count(*) FROM alert_outbox WHERE state = 'sent'") == 120);
}

TEST_CASE_TEMPLATE("requests: asked, answered once, withdrawn", Maker, FLEET_RECEIVER_STORES) {
  testing::AlertWorld<Maker> w;
  AlertRequests requests(*w.link);
  auto id = requests.Ask({17, "ada", "receiver", kT0, "on it", std::nullopt, std::nullopt}, kT0);
  REQUIRE(id.ok());
  auto pending = requests.Pending();
  REQUIRE(pending->size() == 1);
  REQUIRE((*pending)[0].ack.has_value());
  CHECK((*pending)[0].ack->key == 17);
  CHECK((*pending)[0].ack->note == "on it");
  CHECK_FALSE(requests.AnswerOf(*id)->has_value());
  REQUIRE(requests.Answer(*id, {true, "done"}, kT0 + 1).ok());
  REQUIRE(requests.Answer(*id, {false, "again"}, kT0 + 2).ok());  // the first answer stays
  CHECK((*requests.AnswerOf(*id))->text == "done");
  CHECK_FALSE(*requests.Withdraw(*id, kT0 + 3));
  auto other =
      requests.Ask({18, "bob", "receiver", kT0, std::nullopt, std::nullopt, std::nullopt}, kT0);
  CHECK(*requests.Withdraw(*other, kT0 + 4));
  CHECK(requests.Pending()->empty());
  // A row that is not an ack this receiver wrote is read as unreadable, not a crash.
  REQUIRE(w.link
              ->Run("INSERT INTO alert_requests (kind, payload, created) VALUES "
                    "('ack', '{\"key\": \"x\"}', 1)")
              .ok());
  auto odd = requests.Pending();
  REQUIRE(odd->size() == 1);
  CHECK_FALSE((*odd)[0].ack.has_value());
}

TEST_CASE_TEMPLATE("operator channels: set, replaced, cleared, versioned", Maker,
                   FLEET_RECEIVER_STORES) {
  testing::AlertWorld<Maker> w;
  w.AddNode("vps-1", "op-7");
  OperatorChannels channels(*w.link);
  CHECK(*channels.OperatorKnown("op-7"));
  CHECK_FALSE(*channels.OperatorKnown("op-8"));
  const std::string v0 = *channels.Version();
  REQUIRE(channels.Set({"op-7", "-100", {1, 2}, std::nullopt, kT0}).ok());
  const std::string v1 = *channels.Version();
  CHECK(v1 != v0);
  auto row = channels.Find("op-7");
  REQUIRE((*row)->telegram_chat == "-100");
  CHECK((*row)->ackers == std::vector<std::int64_t>{1, 2});
  CHECK_FALSE((*row)->discord_webhook.has_value());
  REQUIRE(channels.Set({"op-7", std::nullopt, {}, "https://discord.com/api/webhooks/1/x", kT0 + 1})
              .ok());
  CHECK(*channels.Version() != v1);
  CHECK((*channels.Find("op-7"))->discord_webhook == "https://discord.com/api/webhooks/1/x");
  REQUIRE(channels.Set({"op-7", std::nullopt, {}, std::nullopt, kT0 + 2}).ok());
  CHECK_FALSE(channels.Find("op-7")->has_value());
  CHECK(channels.All()->empty());
}

}  // namespace
}  // namespace fleet::receiver
