#include "receiver/cli/receiver_cli.h"

#include <CLI/CLI.hpp>
#include <iostream>

namespace fleet::receiver {

int RunReceiverCli(int argc, char** argv) {
  CLI::App app{"fleet-receiver: verifies and stores the records fleet agents push."};
  app.require_subcommand(1);

  ServeArgs serve_args;
  CLI::App* serve = app.add_subcommand("serve", "Accept records over HTTP (POST /v1/records).");
  serve->add_option("--listen", serve_args.listen, "host:port to listen on (port 0: any free)")
      ->capture_default_str();
  serve->add_option("--db", serve_args.db, "SQLite database file (created when missing)")
      ->required();
  serve->add_option("--threads", serve_args.threads, "Threads serving HTTP")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  serve
      ->add_option("--max-connections", serve_args.max_connections,
                   "Open connections at most; more are closed")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  serve
      ->add_option("--read-timeout", serve_args.read_timeout_s,
                   "Seconds a client has to send one request")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();

  CLI::App* nodes = app.add_subcommand("nodes", "The registry of node keys.");
  nodes->require_subcommand(1);
  NodeAddArgs add_args;
  CLI::App* add = nodes->add_subcommand("add", "Register a node and its public key.");
  add->add_option("--db", add_args.db, "SQLite database file")->required();
  add->add_option("--node", add_args.node, "Node id, as in the agent's node.id")->required();
  add->add_option("--operator", add_args.operator_id, "Operator id")->required();
  add->add_option("--jwk", add_args.jwk_file, "File with the public JWK (fleet-agent pubkey --jwk)")
      ->required();
  std::string db;
  bool json = false;
  CLI::App* list = nodes->add_subcommand("list", "List the registered nodes.");
  list->add_option("--db", db, "SQLite database file")->required();
  list->add_flag("--json", json, "Print JSON");
  std::string node;
  CLI::App* revoke = nodes->add_subcommand("revoke", "Refuse a node's records from now on.");
  revoke->add_option("--db", db, "SQLite database file")->required();
  revoke->add_option("--node", node, "Node id")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "fleet-receiver: " << e.what() << " (see --help)\n";
    return kExitUsage;
  }
  if (serve->parsed()) return RunServe(serve_args);
  if (add->parsed()) return RunNodesAdd(add_args);
  if (list->parsed()) return RunNodesList(db, json);
  if (revoke->parsed()) return RunNodesRevoke(db, node);
  return kExitUsage;
}

}  // namespace fleet::receiver
