#include "agent/cli/cli.h"

int main(int argc, char** argv) { return fleet::RunCli(argc, argv); }
