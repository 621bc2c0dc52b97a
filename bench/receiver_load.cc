// fleet-receiver-load: a fleet of simulated nodes pushing signed records to a receiver
// the way the agent does (NDJSON POST /v1/records, one batch in flight per node, oldest
// first, waiting for each acknowledgement). Keys come from a seed per node, so
//   fleet-receiver-load registry --nodes N > registry.yaml
// writes the operators and node keys to import first, and
//   fleet-receiver-load push --url URL --nodes N --records R --batch B --workers W
// signs R heartbeat records per node (before the clock starts), pushes them with W nodes
// in flight at once (one thread, libcurl multi), checks every acknowledgement, and prints
// records/s verified and committed and the p50/p99 batch latency. Nothing is asserted;
// figures are printed.
#include <curl/curl.h>
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/utc_time.h"
#include "protocol/jws.h"
#include "protocol/push_reply.h"
#include "protocol/records.h"

namespace {

using fleet::Base64UrlEncode;
using fleet::PublicKey;
using fleet::SecretKey;

struct Node {
  std::string id;
  PublicKey public_key{};
  SecretKey secret_key{};
  std::string kid;
};

Node MakeNode(int index) {
  Node node;
  char id[32];
  std::snprintf(id, sizeof id, "load-%05d", index);
  node.id = id;
  unsigned char seed[crypto_sign_SEEDBYTES] = {};
  std::memcpy(seed, &index, sizeof index);
  seed[31] = 0x5a;
  crypto_sign_seed_keypair(node.public_key.data(), node.secret_key.data(), seed);
  node.kid = fleet::KeyId(node.public_key);
  return node;
}

std::size_t Collect(char* data, std::size_t size, std::size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

long Arg(int argc, char** argv, const char* name, long fallback) {
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::atol(argv[i + 1]);
  }
  return fallback;
}

std::string StringArg(int argc, char** argv, const char* name) {
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  const std::string mode = argc > 1 ? argv[1] : "";
  const int nodes = static_cast<int>(Arg(argc, argv, "--nodes", 1000));
  if (mode == "registry") {
    std::printf("operators:\n");
    for (int i = 0; i < nodes; ++i) {
      const Node node = MakeNode(i);
      if (i % 5 == 0)
        std::printf("  - {id: op-%05d, name: load, since: 2026-01-01, nodes: [\n", i / 5);
      std::printf("      {id: %s, added: 2026-01-01, jwk: '%s'}%s\n", node.id.c_str(),
                  fleet::PublicJwk(node.public_key).c_str(),
                  (i % 5 == 4 || i == nodes - 1) ? "]}" : ",");
    }
    return 0;
  }
  if (mode != "push") {
    std::fprintf(stderr,
                 "usage: fleet-receiver-load registry --nodes N\n"
                 "       fleet-receiver-load push --url URL [--nodes N] [--records R] "
                 "[--batch B] [--workers W] [--epoch E]\n");
    return 2;
  }
  const std::string url = StringArg(argc, argv, "--url") + "/v1/records";
  const long records = Arg(argc, argv, "--records", 60);
  const long batch = Arg(argc, argv, "--batch", 500);
  const int workers = static_cast<int>(Arg(argc, argv, "--workers", 8));
  const long epoch = Arg(argc, argv, "--epoch", 1);

  // Sign everything first: the figure is the receiver's, not the signer's.
  const auto sign_start = std::chrono::steady_clock::now();
  std::vector<std::vector<std::string>> bodies(nodes);
  const fleet::UnixMinute first = fleet::MinuteOf(std::time(nullptr)) - records - 1;
  for (int i = 0; i < nodes; ++i) {
    const Node node = MakeNode(i);
    std::string prev = fleet::GenesisHash(), body;
    for (long seq = 1; seq <= records; ++seq) {
      const fleet::UnixSeconds minute = (first + seq) * 60;
      namespace protocol = fleet::protocol;
      const protocol::Record record{
          {node.id, epoch, seq, prev, minute + 1, "load", seq * 60000, "load"},
          protocol::Heartbeat{minute, true, {{"disk", protocol::CheckState::kOk}}, true}};
      const std::string jws =
          fleet::SignCompactJws(protocol::EncodeRecord(record), node.secret_key, node.kid);
      prev = fleet::ChainHash(jws);
      body += jws + "\n";
      if (seq % batch == 0 || seq == records) {
        bodies[i].push_back(std::move(body));
        body.clear();
      }
    }
  }
  const double sign_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - sign_start).count();

  curl_global_init(CURL_GLOBAL_DEFAULT);
  // One thread drives every simulated node through libcurl's multi interface: W nodes have
  // a batch in flight at once, each node's next batch goes out once the last one is
  // acknowledged. (Threads per node would spend the shared 2 cores on context switches the
  // receiver then pays for.)
  struct Slot {
    CURL* curl = nullptr;
    int node = -1;
    std::size_t batch = 0;
    std::string reply;
    std::chrono::steady_clock::time_point sent;
  };
  long failures = 0;
  std::vector<double> latencies_ms;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/x-ndjson");
  headers = curl_slist_append(headers, "Expect:");
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(workers));
  std::vector<Slot> slots(static_cast<std::size_t>(std::max(1, workers)));
  int next_node = 0;
  auto send = [&](Slot& slot) {
    const std::string& body = bodies[static_cast<std::size_t>(slot.node)][slot.batch];
    slot.reply.clear();
    curl_easy_setopt(slot.curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(slot.curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(slot.curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(slot.curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(slot.curl, CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(slot.curl, CURLOPT_WRITEDATA, &slot.reply);
    curl_easy_setopt(slot.curl, CURLOPT_PRIVATE, &slot);
    slot.sent = std::chrono::steady_clock::now();
    curl_multi_add_handle(multi, slot.curl);
  };
  // Gives the slot its node's next batch, or the next node's first; false when none is left.
  auto advance = [&](Slot& slot) {
    if (slot.node >= 0 && ++slot.batch < bodies[static_cast<std::size_t>(slot.node)].size()) {
      return true;
    }
    while (next_node < nodes && bodies[static_cast<std::size_t>(next_node)].empty()) ++next_node;
    if (next_node >= nodes) return false;
    slot.node = next_node++;
    slot.batch = 0;
    return true;
  };
  const auto start = std::chrono::steady_clock::now();
  int running = 0;
  for (auto& slot : slots) {
    slot.curl = curl_easy_init();
    if (advance(slot)) {
      send(slot);
      ++running;
    }
  }
  while (running > 0) {
    int active = 0;
    curl_multi_perform(multi, &active);
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      Slot* slot = nullptr;
      curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &slot);
      const CURLcode code = message->data.result;
      curl_multi_remove_handle(multi, slot->curl);
      latencies_ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - slot->sent)
              .count());
      long status = 0;
      curl_easy_getinfo(slot->curl, CURLINFO_RESPONSE_CODE, &status);
      const auto ack = fleet::protocol::DecodePushAck(slot->reply);
      if (code != CURLE_OK || status != 200 || !ack || !ack->rejected.empty()) {
        if (failures++ < 3) {
          std::fprintf(stderr, "batch failed: curl %d, HTTP %ld: %.200s\n", code, status,
                       slot->reply.c_str());
        }
      }
      if (advance(*slot)) {
        send(*slot);
      } else {
        --running;
      }
    }
    if (running > 0) curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
  for (auto& slot : slots) curl_easy_cleanup(slot.curl);
  curl_multi_cleanup(multi);
  curl_slist_free_all(headers);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto pct = [&](double p) {
    if (latencies_ms.empty()) return 0.0;
    return latencies_ms[std::min(
        latencies_ms.size() - 1,
        static_cast<std::size_t>(p * static_cast<double>(latencies_ms.size())))];
  };
  const long total = nodes * records;
  std::printf(
      "nodes %d, records %ld (%ld per node, batches of up to %ld), workers %d\n"
      "signed in %.1f s (not timed below)\n"
      "pushed in %.2f s: %.0f records/s verified and committed\n"
      "batches %zu: latency p50 %.1f ms, p99 %.1f ms; failed batches %ld\n",
      nodes, total, records, batch, workers, sign_s, seconds, static_cast<double>(total) / seconds,
      latencies_ms.size(), pct(0.50), pct(0.99), failures);
  return failures == 0 ? 0 : 1;
}
