// steward-master: flags, signals and the Master's lifetime. See daemon/master.h.
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <utility>

#include "common/flags.h"
#include "common/logging.h"
#include "daemon/master.h"
#include "daemon/registrar.h"

int main(int argc, char** argv) {
  using steward::common::FlagSet;
  steward::daemon::MasterOptions options;
  std::string zk;
  int quorum = 1;
  FlagSet flags("steward-master",
                "Runs a Steward master: it admits agents, offers their resources to frameworks\n"
                "through the Mesos v1 scheduler HTTP API, and serves the operator API, state,\n"
                "metrics and a status page on one HTTP port. Without --zk it runs standalone,\n"
                "keeping its registry in --work_dir.");
  flags.Add("ip", &options.ip, "IP address to listen on.");
  flags.Add("port", &options.port, "Port to listen on (0: any free port).");
  flags.Add("hostname", &options.hostname, "Hostname to advertise (default: --ip).");
  flags.Add("work_dir", &options.work_dir, "Directory for the registry (standalone mode).",
            FlagSet::kRequired);
  flags.Add("allocation_interval", &options.allocation_interval, "Time between allocation cycles.");
  flags.Add("heartbeat_interval", &options.heartbeat_interval,
            "Interval of HEARTBEAT events to frameworks and agents.");
  flags.Add("agent_ping_timeout", &options.agent_ping_timeout,
            "An agent must be heard from at least this often ...");
  flags.Add("max_agent_ping_timeouts", &options.max_agent_ping_timeouts,
            "... or, after this many missed timeouts, it is marked unreachable.");
  flags.Add("max_completed_tasks_per_framework", &options.max_completed_tasks_per_framework,
            "Terminal tasks kept per framework for the state endpoints.");
  flags.Add("http_threads", &options.http_threads, "Threads serving HTTP.");
  flags.Add("allocation_shards", &options.allocation_shards,
            "Agent shards of the allocator's parallel cycle (1: the sequential cycle).");
  flags.Add("allocation_round_agents", &options.allocation_round_agents,
            "Agents per shard between the shards' exchanges of allocations (parallel cycle).");
  flags.Add("zk", &zk,
            "ZooKeeper URL (zk://host:port,.../path) for leader election among masters.");
  flags.Add("quorum", &quorum, "Size of the registry quorum (with --zk).");
  absl::StatusOr<FlagSet::Result> parsed = flags.Parse(argc, argv);
  if (!parsed.ok()) {
    std::cerr << "steward-master: " << parsed.status().message()
              << "\nTry 'steward-master --help'.\n";
    return 2;
  }
  if (parsed->help) {
    std::cout << flags.Usage();
    return 0;
  }
  if (!parsed->positional.empty()) {
    std::cerr << "steward-master: unexpected argument '" << parsed->positional[0] << "'\n";
    return 2;
  }
  if (!zk.empty()) {
    std::cerr << "steward-master: --zk: leader election through ZooKeeper is not part of this "
                 "build yet; run without --zk (standalone)\n";
    return 2;
  }
  for (const auto& [name, value] :
       {std::pair{"allocation_shards", options.allocation_shards},
        std::pair{"allocation_round_agents", options.allocation_round_agents}}) {
    if (value < 1) {
      std::cerr << "steward-master: --" << name << " must be at least 1, got " << value << "\n";
      return 2;
    }
  }
  if (options.http_threads < 1 || options.max_completed_tasks_per_framework < 0) {
    std::cerr << "steward-master: --http_threads must be at least 1 and "
                 "--max_completed_tasks_per_framework not negative\n";
    return 2;
  }

  // Signals are taken by sigwait below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto registrar = steward::daemon::FileRegistrar::Create(options.work_dir);
  if (!registrar.ok()) {
    std::cerr << "steward-master: " << registrar.status().message() << "\n";
    return 1;
  }
  auto master = steward::daemon::Master::Create(options, *std::move(registrar));
  if (!master.ok()) {
    std::cerr << "steward-master: cannot recover: " << master.status().message() << "\n";
    return 1;
  }
  if (absl::Status started = (*master)->Start(); !started.ok()) {
    std::cerr << "steward-master: " << started.message() << "\n";
    return 1;
  }
  // Tests and scripts read the bound port from this line.
  std::printf("steward-master listening on %s:%u\n", options.ip.c_str(), (*master)->port());
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  STEWARD_LOG(INFO) << "Received signal " << signal_number << "; shutting down";
  (*master)->Stop();
  return 0;
}
