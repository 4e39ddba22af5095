// steward: the Steward command-line client. See daemon/cli/commands.h and docs/operations.md.
#include <signal.h>

#include <iostream>
#include <string>
#include <vector>

#include "daemon/cli/commands.h"
#include "daemon/cli/internal/arguments.h"

int main(int argc, char** argv) {
  // A closed connection must be an error on the socket, not the end of the process.
  signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  steward::cli::Io io{std::cout, std::cerr, steward::cli::ProcessEnvironment()};
  const int code = steward::cli::RunCli(args, io);
  std::cout.flush();
  return code;
}
