#include "receiver/cli/receiver_cli.h"

int main(int argc, char** argv) { return fleet::receiver::RunReceiverCli(argc, argv); }
