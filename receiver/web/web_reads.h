// WebReads: what a dashboard page reads, handed to it by the router (dashboard.h): the
// reports' source (registry, heartbeats, tasks, incidents, acks, alerts) and a link to the same
// database for the tables the reports do not read (records with their JWS, remediations), both
// used by one request at a time; the time now and the policies the reports use. A page filters
// by its Viewer where it reads: it asks only for the nodes and operators the viewer sees.
#pragma once

#include <cstdint>

#include "receiver/core/live_arrival.h"
#include "receiver/report/statement.h"
#include "receiver/store/open_report_source.h"
#include "receiver/store/sql_link.h"

namespace fleet::receiver {

struct WebReads {
  RegistrySource& source;
  SqlLink& link;
  std::int64_t now = 0;             // unix seconds
  std::int64_t silent_after = 180;  // node_states.h
  std::int64_t live_within_s = kLiveWithinSeconds;
  PayoutPolicy policy{};
};

}  // namespace fleet::receiver
