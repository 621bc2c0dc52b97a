#include "agent/alerts/alert_ledger.h"

#include "base/json_text.h"

namespace fleet {
namespace {

using json = nlohmann::json;

constexpr const char* kTables = R"sql(
CREATE TABLE IF NOT EXISTS alert_values(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alert_outbox(
  id INTEGER PRIMARY KEY, alert INTEGER NOT NULL, notice TEXT NOT NULL, channel TEXT NOT NULL,
  action TEXT NOT NULL, alert_json TEXT NOT NULL, created INTEGER NOT NULL, due INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL DEFAULT 'pending', last_error TEXT,
  done_at INTEGER);
CREATE INDEX IF NOT EXISTS alert_outbox_waiting ON alert_outbox(channel, state, id);
CREATE TABLE IF NOT EXISTS alert_messages(
  alert INTEGER NOT NULL, channel TEXT NOT NULL, message_id TEXT NOT NULL,
  PRIMARY KEY(alert, channel));
CREATE TABLE IF NOT EXISTS alert_inbox(
  id INTEGER PRIMARY KEY, kind TEXT NOT NULL, payload TEXT NOT NULL, created INTEGER NOT NULL,
  answered INTEGER, ok INTEGER, answer TEXT);
)sql";

std::string_view ActionName(OutboxAction action) {
  return action == OutboxAction::kEdit ? "edit" : "send";
}

Outcome Run(SqliteDb& db, std::string_view sql) { return db.Exec(sql); }

}  // namespace

Result<std::unique_ptr<AlertLedger>> AlertLedger::Open(const std::string& state_dir,
                                                       bool read_only) {
  const std::string path = state_dir + "/history.db";
  auto db =
      SqliteDb::Open(path, read_only ? SqliteDb::Mode::kReadOnly : SqliteDb::Mode::kReadWrite);
  if (!db) return Error{db.error()};
  if (read_only) {
    auto stmt = (*db)->Prepare(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'alert_outbox'");
    if (!stmt) return Error{path + ": " + stmt.error()};
    auto row = (*stmt)->Step();
    if (!row) return Error{path + ": " + row.error()};
    const bool tables = *row && (*stmt)->Int(0) == 1;
    stmt->reset();
    return std::unique_ptr<AlertLedger>(new AlertLedger(std::move(db).value(), tables));
  }
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"}) {
    if (auto done = (*db)->Exec(pragma); !done) return Error{path + ": " + done.error()};
  }
  if (auto made = Run(**db, kTables); !made) return Error{path + ": " + made.error()};
  return std::unique_ptr<AlertLedger>(new AlertLedger(std::move(db).value(), true));
}

Result<std::optional<std::string>> AlertLedger::Value(const std::string& key) {
  if (!tables_) return std::optional<std::string>();
  auto stmt = db_->Prepare("SELECT value FROM alert_values WHERE key = ?");
  if (!stmt) return Error{stmt.error()};
  (*stmt)->Bind(1, std::string_view(key));
  auto row = (*stmt)->Step();
  if (!row) return Error{row.error()};
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>((*stmt)->Text(0));
}

Outcome AlertLedger::SetValue(const std::string& key, const std::string& value) {
  auto stmt = db_->Prepare(
      "INSERT INTO alert_values(key, value) VALUES(?, ?) "
      "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  if (!stmt) return Error{stmt.error()};
  return (*stmt)->Bind(1, std::string_view(key)).Bind(2, std::string_view(value)).Run();
}

Result<std::optional<json>> AlertLedger::LoadBook() {
  auto text = Value("book");
  if (!text) return Error{text.error()};
  if (!*text) return std::optional<json>();
  json book = json::parse(**text, nullptr, false);
  if (book.is_discarded()) return Error{"the saved alert state is not JSON"};
  return std::optional<json>(std::move(book));
}

Outcome AlertLedger::Record(const json& book, const std::vector<QueuedMessage>& messages,
                            std::int64_t now) {
  SqliteTransaction tx(*db_);
  if (auto begun = tx.Begin(); !begun) return begun;
  if (auto saved = SetValue("book", DumpJson(book)); !saved) return saved;
  auto stmt = db_->Prepare(
      "INSERT INTO alert_outbox(alert, notice, channel, action, alert_json, created, due) "
      "VALUES(?,?,?,?,?,?,?)");
  if (!stmt) return Error{stmt.error()};
  for (const QueuedMessage& m : messages) {
    auto done = (*stmt)
                    ->Bind(1, m.alert)
                    .Bind(2, std::string_view(m.notice))
                    .Bind(3, std::string_view(m.channel))
                    .Bind(4, ActionName(m.action))
                    .Bind(5, std::string_view(DumpJson(m.alert_json)))
                    .Bind(6, now)
                    .Bind(7, now)
                    .Run();
    if (!done) return done;
    (*stmt)->Reset();
  }
  if (!messages.empty()) {
    if (auto bounded = Bound(now); !bounded) return bounded;
  }
  return tx.Commit();
}

// Past kMaxPendingMessages waiting rows: reminders go first, then the oldest of any kind.
Outcome AlertLedger::Bound(std::int64_t now) {
  for (const char* which : {"notice = 'reminder'", "1"}) {
    auto stmt = db_->Prepare(
        std::string("UPDATE alert_outbox SET state = 'dropped', done_at = ?, "
                    "last_error = 'the outbox was full' WHERE id IN (SELECT id FROM alert_outbox "
                    "WHERE state = 'pending' AND ") +
        which +
        " ORDER BY id LIMIT max(0, (SELECT count(*) FROM alert_outbox WHERE "
        "state = 'pending') - ?))");
    if (!stmt) return Error{stmt.error()};
    if (auto done = (*stmt)->Bind(1, now).Bind(2, kMaxPendingMessages).Run(); !done) return done;
  }
  return Success();
}

Result<std::optional<OutboxRow>> AlertLedger::NextDue(const std::string& channel,
                                                      std::int64_t now) {
  if (!tables_) return std::optional<OutboxRow>();
  auto stmt = db_->Prepare(
      "SELECT id, alert, notice, channel, action, alert_json, created, due, attempts "
      "FROM alert_outbox WHERE channel = ? AND state = 'pending' ORDER BY id LIMIT 1");
  if (!stmt) return Error{stmt.error()};
  (*stmt)->Bind(1, std::string_view(channel));
  auto row = (*stmt)->Step();
  if (!row) return Error{row.error()};
  // Oldest first, whatever its due: a later message never overtakes an earlier one. A due
  // further ahead than any wait the sender sets means the wall clock went back: due now.
  if (!*row) return std::optional<OutboxRow>();
  const std::int64_t due = (*stmt)->Int(7);
  if (due > now && due <= now + kMaxOutboxWait) return std::optional<OutboxRow>();
  const SqliteStatement& s = **stmt;
  OutboxRow out;
  out.id = s.Int(0);
  out.alert = s.Int(1);
  out.notice = s.Text(2);
  out.channel = s.Text(3);
  out.action = s.Text(4) == "edit" ? OutboxAction::kEdit : OutboxAction::kSend;
  out.alert_json = s.Text(5);
  out.created = s.Int(6);
  out.due = s.Int(7);
  out.attempts = s.Int(8);
  return std::optional<OutboxRow>(std::move(out));
}

Outcome AlertLedger::MarkSent(const OutboxRow& row, const std::string& message_id,
                              std::int64_t now) {
  SqliteTransaction tx(*db_);
  if (auto begun = tx.Begin(); !begun) return begun;
  auto stmt = db_->Prepare(
      "UPDATE alert_outbox SET state = 'sent', done_at = ?, attempts = attempts + 1, "
      "last_error = NULL WHERE id = ?");
  if (!stmt) return Error{stmt.error()};
  if (auto done = (*stmt)->Bind(1, now).Bind(2, row.id).Run(); !done) return done;
  if (row.action == OutboxAction::kSend && !message_id.empty()) {
    auto keep = db_->Prepare(
        "INSERT OR IGNORE INTO alert_messages(alert, channel, message_id) VALUES(?,?,?)");
    if (!keep) return Error{keep.error()};
    auto done = (*keep)
                    ->Bind(1, row.alert)
                    .Bind(2, std::string_view(row.channel))
                    .Bind(3, std::string_view(message_id))
                    .Run();
    if (!done) return done;
  }
  return tx.Commit();
}

Outcome AlertLedger::Reschedule(std::int64_t id, std::int64_t due, const std::string& error) {
  auto stmt = db_->Prepare(
      "UPDATE alert_outbox SET due = ?, attempts = attempts + 1, last_error = ? WHERE id = ?");
  if (!stmt) return Error{stmt.error()};
  return (*stmt)->Bind(1, due).Bind(2, std::string_view(error)).Bind(3, id).Run();
}

Outcome AlertLedger::HoldChannel(const std::string& channel, std::int64_t due,
                                 const std::string& error) {
  auto stmt = db_->Prepare(
      "UPDATE alert_outbox SET due = max(due, ?), last_error = ? "
      "WHERE channel = ? AND state = 'pending'");
  if (!stmt) return Error{stmt.error()};
  return (*stmt)
      ->Bind(1, due)
      .Bind(2, std::string_view(error))
      .Bind(3, std::string_view(channel))
      .Run();
}

Outcome AlertLedger::MarkFailed(std::int64_t id, const std::string& error, std::int64_t now) {
  auto stmt = db_->Prepare(
      "UPDATE alert_outbox SET state = 'failed', done_at = ?, attempts = attempts + 1, "
      "last_error = ? WHERE id = ?");
  if (!stmt) return Error{stmt.error()};
  return (*stmt)->Bind(1, now).Bind(2, std::string_view(error)).Bind(3, id).Run();
}

Result<std::int64_t> AlertLedger::DropUnrouted(const std::vector<std::string>& configured,
                                               std::int64_t now) {
  std::string list;
  for (const auto& c : configured) list += (list.empty() ? "" : ",") + std::string("'") + c + "'";
  // Channel names are the fixed set this agent makes (no quote can be in them).
  auto stmt = db_->Prepare(
      "UPDATE alert_outbox SET state = 'dropped', done_at = ?, "
      "last_error = 'the channel is no longer configured' WHERE state = 'pending'" +
      (list.empty() ? std::string() : " AND channel NOT IN (" + list + ")"));
  if (!stmt) return Error{stmt.error()};
  if (auto done = (*stmt)->Bind(1, now).Run(); !done) return Error{done.error()};
  return static_cast<std::int64_t>(db_->Changes());
}

Result<std::optional<std::string>> AlertLedger::FirstMessage(std::int64_t alert,
                                                             const std::string& channel) {
  auto stmt = db_->Prepare("SELECT message_id FROM alert_messages WHERE alert = ? AND channel = ?");
  if (!stmt) return Error{stmt.error()};
  (*stmt)->Bind(1, alert).Bind(2, std::string_view(channel));
  auto row = (*stmt)->Step();
  if (!row) return Error{row.error()};
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>((*stmt)->Text(0));
}

Result<std::map<std::string, ChannelCounts>> AlertLedger::Counts() {
  std::map<std::string, ChannelCounts> counts;
  if (!tables_) return counts;
  auto stmt = db_->Prepare(
      "SELECT channel, sum(state = 'pending'), sum(state = 'sent'), sum(state = 'failed'), "
      "sum(state = 'dropped'), min(CASE WHEN state = 'pending' THEN created END) "
      "FROM alert_outbox GROUP BY channel");
  if (!stmt) return Error{stmt.error()};
  for (;;) {
    auto row = (*stmt)->Step();
    if (!row) return Error{row.error()};
    if (!*row) break;
    const SqliteStatement& s = **stmt;
    ChannelCounts& c = counts[s.Text(0)];
    c.pending = s.Int(1);
    c.sent = s.Int(2);
    c.failed = s.Int(3);
    c.dropped = s.Int(4);
    if (!s.IsNull(5)) c.oldest_pending = s.Int(5);
  }
  return counts;
}

Outcome AlertLedger::Prune(std::int64_t before) {
  auto stmt = db_->Prepare("DELETE FROM alert_outbox WHERE state != 'pending' AND done_at < ?");
  if (!stmt) return Error{stmt.error()};
  if (auto done = (*stmt)->Bind(1, before).Run(); !done) return done;
  auto inbox = db_->Prepare("DELETE FROM alert_inbox WHERE answered IS NOT NULL AND answered < ?");
  if (!inbox) return Error{inbox.error()};
  return (*inbox)->Bind(1, before).Run();
}

Result<std::int64_t> AlertLedger::Request(const std::string& kind, const json& payload,
                                          std::int64_t now) {
  auto stmt = db_->Prepare("INSERT INTO alert_inbox(kind, payload, created) VALUES(?,?,?)");
  if (!stmt) return Error{stmt.error()};
  auto done = (*stmt)
                  ->Bind(1, std::string_view(kind))
                  .Bind(2, std::string_view(DumpJson(payload)))
                  .Bind(3, now)
                  .Run();
  if (!done) return Error{done.error()};
  return db_->LastInsertId();
}

Result<std::vector<InboxRequest>> AlertLedger::PendingRequests() {
  std::vector<InboxRequest> requests;
  if (!tables_) return requests;
  auto stmt = db_->Prepare(
      "SELECT id, kind, payload, created FROM alert_inbox WHERE answered IS NULL ORDER BY id "
      "LIMIT 100");
  if (!stmt) return Error{stmt.error()};
  for (;;) {
    auto row = (*stmt)->Step();
    if (!row) return Error{row.error()};
    if (!*row) break;
    InboxRequest r;
    r.id = (*stmt)->Int(0);
    r.kind = (*stmt)->Text(1);
    r.payload = json::parse((*stmt)->Text(2), nullptr, false);
    r.created = (*stmt)->Int(3);
    requests.push_back(std::move(r));
  }
  return requests;
}

Outcome AlertLedger::Answer(std::int64_t id, const InboxAnswer& answer, std::int64_t now) {
  auto stmt = db_->Prepare("UPDATE alert_inbox SET answered = ?, ok = ?, answer = ? WHERE id = ?");
  if (!stmt) return Error{stmt.error()};
  return (*stmt)
      ->Bind(1, now)
      .Bind(2, std::int64_t{answer.ok})
      .Bind(3, std::string_view(answer.text))
      .Bind(4, id)
      .Run();
}

Result<std::optional<InboxAnswer>> AlertLedger::AnswerOf(std::int64_t id) {
  auto stmt =
      db_->Prepare("SELECT ok, answer FROM alert_inbox WHERE id = ? AND answered IS NOT NULL");
  if (!stmt) return Error{stmt.error()};
  (*stmt)->Bind(1, id);
  auto row = (*stmt)->Step();
  if (!row) return Error{row.error()};
  if (!*row) return std::optional<InboxAnswer>();
  return std::optional<InboxAnswer>(InboxAnswer{(*stmt)->Int(0) != 0, (*stmt)->Text(1)});
}

Result<bool> AlertLedger::Withdraw(std::int64_t id, std::int64_t now) {
  auto stmt = db_->Prepare(
      "UPDATE alert_inbox SET answered = ?, ok = 0, answer = 'withdrawn: no answer in time' "
      "WHERE id = ? AND answered IS NULL");
  if (!stmt) return Error{stmt.error()};
  if (auto done = (*stmt)->Bind(1, now).Bind(2, id).Run(); !done) return Error{done.error()};
  return db_->Changes() == 1;
}

}  // namespace fleet
