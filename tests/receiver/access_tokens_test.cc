// The dashboard's access tokens and sessions on both stores (receiver/access/access_tokens.h):
// tokens of an operator or the admin stand for their viewer until they expire or are revoked
// (or their operator is); only digests are stored; sessions are bound to their token and Host
// and last 12 h; the last use is written at most once a minute.
#include "receiver/access/access_tokens.h"

#include <doctest/doctest.h>

#include <regex>

#include "protocol/key_proof.h"
#include "receiver/registry/revocations.h"
#include "receiver/store/open_report_source.h"
#include "tests/receiver/store_factory.h"
#include "tests/receiver/test_records.h"

namespace fleet::receiver {
namespace {

using testing::TestNode;

constexpr std::int64_t kNow = 1764064800;  // 2025-11-25T10:00:00Z
constexpr std::int64_t kDay = 24 * 3600;
constexpr const char* kHost = "dash.example:8443";

// Counts the UPDATE statements that go through it (the last-use writes).
class CountingLink final : public SqlLink {
 public:
  explicit CountingLink(SqlLink& inner) : inner_(inner) {}
  Result<SqlRows> Run(std::string_view sql, const SqlParams& params) override {
    if (sql.starts_with("UPDATE")) ++updates;
    return inner_.Run(sql, params);
  }
  Outcome Begin() override { return inner_.Begin(); }
  Outcome BeginRead() override { return inner_.BeginRead(); }
  Outcome Commit() override { return inner_.Commit(); }
  void Rollback() override { inner_.Rollback(); }
  bool postgres() const override { return inner_.postgres(); }
  int updates = 0;

 private:
  SqlLink& inner_;
};

template <typename Maker>
struct World {
  Maker maker;
  std::unique_ptr<RecordStore> store = maker.Make();
  std::unique_ptr<SqlLink> link = [this] {
    auto made = OpenSqlLink(maker.Db());
    REQUIRE_MESSAGE(made.ok(), (made ? "" : made.error()));
    return std::move(made).value();
  }();
  AccessTokens tokens{*link};

  World() {
    // op-7 is known by a node of theirs, op-9 by the operators table alone.
    REQUIRE(store->AddNode(TestNode("n-1").Entry("op-7")).ok());
    auto source = OpenReportSource(maker.Db());
    REQUIRE_MESSAGE(source.ok(), (source ? "" : source.error()));
    REQUIRE((*source)->AddOperator({"op-9", "Nine", kNow - 100 * kDay}).ok());
  }

  IssuedAccessToken Add(std::optional<std::string> op, std::optional<std::int64_t> ttl = 90 * kDay,
                        std::int64_t now = kNow) {
    auto issued = tokens.Add(std::move(op), "laptop", ttl, now);
    REQUIRE_MESSAGE(issued.ok(), (issued ? "" : issued.error()));
    return *issued;
  }
  std::optional<Viewer> Check(const std::string& token, std::int64_t now = kNow) {
    auto viewer = tokens.Check(token, now);
    REQUIRE_MESSAGE(viewer.ok(), (viewer ? "" : viewer.error()));
    return *viewer;
  }
  std::optional<Viewer> Session(const std::string& secret, const std::string& host = kHost,
                                std::int64_t now = kNow) {
    auto viewer = tokens.CheckSession(secret, host, now);
    REQUIRE_MESSAGE(viewer.ok(), (viewer ? "" : viewer.error()));
    return *viewer;
  }
  std::string Open(const Viewer& viewer, const std::string& host = kHost, std::int64_t now = kNow) {
    auto secret = tokens.OpenSession(viewer, host, now);
    REQUIRE_MESSAGE(secret.ok(), (secret ? "" : secret.error()));
    return *secret;
  }
  std::string Sql(const std::string& sql, const SqlParams& params = {}) {
    auto rows = link->Run(sql, params);
    REQUIRE_MESSAGE(rows.ok(), (rows ? "" : rows.error()));
    std::string out;
    for (int r = 0; r < rows->size(); ++r) {
      out += r ? "\n" : "";
      out += rows->Text(r, 0);
    }
    return out;
  }
};

}  // namespace

TEST_CASE_TEMPLATE("access tokens: an operator's and the admin's token stand for their viewer",
                   Maker, FLEET_RECEIVER_STORES) {
  World<Maker> w;
  const IssuedAccessToken op7 = w.Add("op-7");
  CHECK(std::regex_match(op7.token, std::regex("fr_[A-Za-z0-9_-]{43}")));
  CHECK(std::regex_match(op7.id, std::regex("t-[0-9a-f]{8}")));
  CHECK(op7.expires_at == kNow + 90 * kDay);
  CHECK(LooksLikeAccessToken(op7.token));
  auto viewer = w.Check(op7.token);
  REQUIRE(viewer.has_value());
  CHECK(viewer->operator_id == "op-7");
  CHECK(viewer->token_id == op7.id);
  CHECK_FALSE(viewer->admin());

  const IssuedAccessToken admin = w.Add(std::nullopt, std::nullopt);
  CHECK_FALSE(admin.expires_at.has_value());
  CHECK(admin.token != op7.token);
  CHECK(admin.id != op7.id);
  viewer = w.Check(admin.token, kNow + 3650 * kDay);  // no expiry
  REQUIRE(viewer.has_value());
  CHECK(viewer->admin());
  CHECK(viewer->token_id == admin.id);

  const IssuedAccessToken op9 = w.Add("op-9");  // in the operators table, no node yet
  CHECK(w.Check(op9.token)->operator_id == "op-9");

  // Only the digest is kept: the token's text is in no column.
  CHECK(w.Sql("SELECT token_hash FROM access_tokens WHERE id = $1", {op7.id}) ==
        protocol::TokenDigest(op7.token));
  CHECK(w.Sql("SELECT count(*) FROM access_tokens WHERE token_hash = $1 OR label = $1 OR id = $1 "
              "OR operator = $1",
              {op7.token}) == "0");
}

TEST_CASE_TEMPLATE("access tokens: unknown, malformed or revoked operators are refused", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  auto unknown = w.tokens.Add(std::string("op-404"), "", 3600, kNow);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().find("no operator op-404") != std::string::npos);
  CHECK_FALSE(w.tokens.Add(std::string("op 7; DROP TABLE"), "", 3600, kNow).ok());
  CHECK_FALSE(w.tokens.Add(std::string(""), "", 3600, kNow).ok());
  CHECK_FALSE(w.tokens.Add(std::string("op-7"), "", 0, kNow).ok());
  CHECK_FALSE(w.tokens.Add(std::string("op-7"), "bell\a", 3600, kNow).ok());
  CHECK_FALSE(
      w.tokens.Add(std::string("op-7"), std::string(kMaxTokenLabel + 1, 'x'), 3600, kNow).ok());
  REQUIRE(Revocations(*w.link).RevokeOperator("op-7", kNow - 60, "left").ok());
  auto revoked = w.tokens.Add(std::string("op-7"), "", 3600, kNow);
  REQUIRE_FALSE(revoked.ok());
  CHECK(revoked.error().find("revoked") != std::string::npos);
  CHECK(w.Sql("SELECT count(*) FROM access_tokens") == "0");
}

TEST_CASE_TEMPLATE("access tokens: wrong, expired, revoked or of a revoked operator: no viewer",
                   Maker, FLEET_RECEIVER_STORES) {
  World<Maker> w;
  const IssuedAccessToken good = w.Add("op-7", 3600);
  const IssuedAccessToken admin = w.Add(std::nullopt);
  std::string changed = good.token;
  changed[10] = changed[10] == 'A' ? 'B' : 'A';
  for (const std::string& wrong :
       {std::string(), std::string("fr_"), "fr_" + std::string(43, 'A'), changed, good.token + "x",
        good.token.substr(0, 45), good.token.substr(3), std::string("Bearer ") + good.token,
        std::string("fr_\0\0\0", 6), std::string(100000, 'f')}) {
    CHECK_FALSE(w.Check(wrong).has_value());
  }
  CHECK(w.Check(good.token, kNow + 3599).has_value());
  CHECK_FALSE(w.Check(good.token, kNow + 3600).has_value());  // expired

  const IssuedAccessToken other = w.Add("op-7");
  CHECK(w.Check(other.token).has_value());
  auto revoked = w.tokens.Revoke(other.id, kNow + 10);
  REQUIRE(revoked.ok());
  CHECK(*revoked);
  CHECK_FALSE(w.Check(other.token, kNow + 10).has_value());
  CHECK(*w.tokens.Revoke(other.id, kNow + 99));  // again: the first time stays
  CHECK(w.Sql("SELECT revoked_at FROM access_tokens WHERE id = $1", {other.id}) ==
        std::to_string(kNow + 10));
  auto none = w.tokens.Revoke("t-00000000", kNow);
  REQUIRE(none.ok());
  CHECK_FALSE(*none);

  const IssuedAccessToken third = w.Add("op-7");
  REQUIRE(w.Check(third.token).has_value());
  REQUIRE(Revocations(*w.link).RevokeOperator("op-7", kNow, "left the program").ok());
  CHECK_FALSE(w.Check(third.token).has_value());
  CHECK(w.Check(admin.token).has_value());  // the admin is no operator
}

TEST_CASE_TEMPLATE("access tokens: the list names every token, never its text", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  const IssuedAccessToken a = w.Add("op-7", 3600, kNow);
  const IssuedAccessToken b = w.Add(std::nullopt, std::nullopt, kNow + 5);
  REQUIRE(w.Check(a.token, kNow + 20).has_value());
  REQUIRE(*w.tokens.Revoke(b.id, kNow + 30));
  auto list = w.tokens.List();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  const AccessTokenInfo& first = list->at(0);
  CHECK(first.id == a.id);
  CHECK(first.operator_id == "op-7");
  CHECK(first.label == "laptop");
  CHECK(first.created_at == kNow);
  CHECK(first.expires_at == kNow + 3600);
  CHECK_FALSE(first.revoked_at.has_value());
  CHECK(first.last_used_at == kNow + 20);
  const AccessTokenInfo& second = list->at(1);
  CHECK(second.id == b.id);
  CHECK_FALSE(second.operator_id.has_value());
  CHECK_FALSE(second.expires_at.has_value());
  CHECK(second.revoked_at == kNow + 30);
  CHECK_FALSE(second.last_used_at.has_value());
}

TEST_CASE_TEMPLATE("access tokens: the last use is written at most once a minute", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  const IssuedAccessToken a = w.Add("op-7");
  CountingLink counting(*w.link);
  AccessTokens tokens(counting);
  for (int i = 0; i < 60; ++i) REQUIRE(tokens.Check(a.token, kNow + i)->has_value());
  CHECK(counting.updates == 1);
  CHECK(w.Sql("SELECT last_used_at FROM access_tokens WHERE id = $1", {a.id}) ==
        std::to_string(kNow));
  REQUIRE(tokens.Check(a.token, kNow + 60)->has_value());
  CHECK(counting.updates == 2);
  CHECK(w.Sql("SELECT last_used_at FROM access_tokens WHERE id = $1", {a.id}) ==
        std::to_string(kNow + 60));
  // Sessions count as uses too, under the same bound.
  auto secret = tokens.OpenSession(*w.Check(a.token, kNow + 61), kHost, kNow + 61);
  REQUIRE(secret.ok());
  for (int i = 62; i < 120; ++i)
    REQUIRE(tokens.CheckSession(*secret, kHost, kNow + i)->has_value());
  CHECK(counting.updates == 2);
  REQUIRE(tokens.CheckSession(*secret, kHost, kNow + 120)->has_value());
  CHECK(counting.updates == 3);
}

TEST_CASE_TEMPLATE("access sessions: bound to their token and Host, 12 h, digest only", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  const IssuedAccessToken a = w.Add("op-7");
  const Viewer viewer = *w.Check(a.token);
  const std::string secret = w.Open(viewer);
  CHECK(LooksLikeSessionSecret(secret));
  CHECK(secret != w.Open(viewer));
  auto seen = w.Session(secret, kHost, kNow + 10);
  REQUIRE(seen.has_value());
  CHECK(seen->operator_id == "op-7");
  CHECK(seen->token_id == a.id);
  CHECK(w.Session(secret, "DASH.Example:8443").has_value());  // a Host's case is no matter
  for (const char* other : {"evil.example", "dash.example", "dash.example:8444", "", " ",
                            "dash.example:8443.evil.example"}) {
    CHECK_FALSE(w.Session(secret, other).has_value());
  }
  CHECK(w.Session(secret, kHost, kNow + kSessionSeconds - 1).has_value());
  CHECK_FALSE(w.Session(secret, kHost, kNow + kSessionSeconds).has_value());
  for (const std::string& wrong : {std::string(), std::string(43, 'A'), secret + "A",
                                   secret.substr(1), a.token, std::string(5000, 'x')}) {
    CHECK_FALSE(w.Session(wrong).has_value());
  }
  CHECK(w.Sql("SELECT count(*) FROM web_sessions WHERE secret_hash = $1",
              {protocol::TokenDigest(secret)}) == "1");
  CHECK(w.Sql("SELECT count(*) FROM web_sessions WHERE secret_hash = $1 OR host = $1", {secret}) ==
        "0");

  REQUIRE(w.tokens.CloseSession(secret).ok());
  CHECK_FALSE(w.Session(secret).has_value());
  CHECK(w.tokens.CloseSession("garbage; DROP TABLE web_sessions").ok());

  // A session lasts no longer than its token.
  const IssuedAccessToken brief = w.Add("op-7", 600);
  const std::string short_lived = w.Open(*w.Check(brief.token));
  CHECK(w.Session(short_lived, kHost, kNow + 599).has_value());
  CHECK_FALSE(w.Session(short_lived, kHost, kNow + 600).has_value());
}

TEST_CASE_TEMPLATE("access sessions: revoking the token or its operator ends them", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  const IssuedAccessToken a = w.Add("op-7");
  const IssuedAccessToken b = w.Add("op-7");
  const std::string sa1 = w.Open(*w.Check(a.token));
  const std::string sa2 = w.Open(*w.Check(a.token), "other.example");
  const std::string sb = w.Open(*w.Check(b.token));
  REQUIRE(*w.tokens.Revoke(a.id, kNow + 5));
  CHECK_FALSE(w.Session(sa1, kHost, kNow + 6).has_value());
  CHECK_FALSE(w.Session(sa2, "other.example", kNow + 6).has_value());
  CHECK(w.Sql("SELECT count(*) FROM web_sessions WHERE token_id = $1", {a.id}) == "0");
  CHECK(w.Session(sb, kHost, kNow + 6).has_value());  // another token's session stays
  // A revoked token opens none.
  CHECK_FALSE(w.tokens.OpenSession(Viewer{"op-7", a.id}, kHost, kNow + 7).ok());
  CHECK_FALSE(w.tokens.OpenSession(Viewer{"op-7", "t-nothere"}, kHost, kNow + 7).ok());
  CHECK_FALSE(w.tokens.OpenSession(*w.Check(b.token), "", kNow + 7).ok());

  REQUIRE(Revocations(*w.link).RevokeOperator("op-7", kNow + 8, "left").ok());
  CHECK_FALSE(w.Session(sb, kHost, kNow + 9).has_value());
}

}  // namespace fleet::receiver
