// AlertService: alerting inside `fleet-agent run`, on the daemon's loop (its io_context):
// the Alerter fed by every check answer, a timer for what the rules decide over time
// (confirm, reminders, escalation, maintenance's end), the AlertSender thread that drains
// the outbox, the ButtonPoller thread for Telegram presses (alerts.telegram.poll), and the
// inbox through which `fleet-agent ack` and `maintenance` reach the daemon (looked at every
// second). Acknowledgements (a command, a button) and maintenance windows become signed
// records through the daemon's history (the NodeHistory callbacks): one `ack` record for
// each open incident of the acknowledged alert's checks. It runs with no channel too, so
// `ack` and `maintenance` work on a node whose alerts the receiver sends. Nothing here
// blocks the loop on the network. Loop thread only, but for the poller's hand-over.
#pragma once

#include <utility>  // before Asio: Boost 1.74 Asio under C++20 needs std::exchange

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "agent/alerts/alerter.h"
#include "agent/config/alert_secrets.h"
#include "agent/config/config.h"
#include "agent/daemon/error_log.h"
#include "base/utc_time.h"
#include "core/check_result.h"

namespace fleet {

class AlertSender;
class ButtonPoller;

// What alerting needs of the node's history, done by the daemon (its HistoryStore and
// accountant): the open incident of a check, an incident by number, the signed records.
struct NodeHistoryHooks {
  std::function<std::optional<std::int64_t>(const std::string& check)> open_incident;
  // nullopt: no such incident; the pair: its check and whether it is still open.
  std::function<Result<std::optional<std::pair<std::string, bool>>>(std::int64_t id)> incident;
  std::function<Outcome(std::int64_t incident, const alerting::Acknowledgement& ack)> record_ack;
  std::function<Outcome(std::int64_t from, std::int64_t until, const std::string& reason,
                        const std::string& by)>
      record_maintenance;
  // `fleet-agent fix` hands over what it did (inbox kind "remediation"): signed and
  // recorded by the daemon; the answer's text, or why not.
  std::function<Result<std::string>(const nlohmann::json& payload)> record_remediation;
  std::function<std::int64_t()> now;  // wall clock, unix seconds
  // The weekly summary of a week that ended (alerts.weekly_summary).
  std::function<Result<alerting::Alert>(const Period& week)> weekly_summary;
};

class AlertService {
 public:
  AlertService(boost::asio::io_context& io, std::string state_dir, std::string node,
               NodeHistoryHooks history);
  ~AlertService();

  // (Re)configures channels, rules and threads; the secrets were read by the caller.
  // An error leaves alerting as it was.
  Outcome Configure(const AlertSettings& settings, const AlertSecrets& secrets);
  void Observe(const CheckResult& result);
  void Forget(const std::string& check);
  // What the remedies did about a check, for its alert (Alerter::SetNote).
  void Note(const std::string& check, const std::string& note, bool tell);
  // Whether a maintenance window is open now (remedies wait for its end).
  bool InMaintenance() const;
  void Stop();
  nlohmann::json Status() const;

 private:
  void Schedule();
  void OnTimer();
  void ServeInbox();
  void SendWeeklySummary();
  // The loop's half of an acknowledgement (a command or a button): the rules, the records.
  Result<std::string> Acknowledge(std::int64_t alert, alerting::Acknowledgement ack);
  Result<std::string> AcknowledgeIncident(std::optional<std::int64_t> incident,
                                          alerting::Acknowledgement ack);
  Result<std::string> Maintenance(const nlohmann::json& request);
  void Report(const std::string& key, const Outcome& outcome);
  void Queued(const Result<bool>& queued, const std::string& key);

  boost::asio::io_context& io_;
  boost::asio::steady_timer timer_;
  std::string state_dir_;
  std::string node_;
  NodeHistoryHooks history_;
  AlertSettings settings_;
  AlertSecrets secrets_;
  std::unique_ptr<Alerter> alerter_;
  std::unique_ptr<AlertSender> sender_;
  std::unique_ptr<ButtonPoller> poller_;
  RepeatingErrorLog errors_;
  std::int64_t maintenance_from_ = 0;
  bool armed_ = false;  // the timer has a wait pending
  bool stopped_ = false;
};

}  // namespace fleet
