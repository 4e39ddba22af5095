// steward-agent: see agent/agent.h and agent/agent_flags.h.
//
// Exit status: 0 after SIGTERM/SIGINT, 1 when the agent cannot start or the master refuses
// it, 2 for bad flags. Tasks keep running in every case.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <thread>
#include <utility>

#include "agent/agent.h"
#include "agent/agent_flags.h"
#include "agent/containerizer.h"
#include "common/logging.h"

int main(int argc, char** argv) {
  // Containers' supervisors are this binary re-executed; they never get past this line.
  steward::agent::MaybeRunSupervisor(argc, argv);

  absl::StatusOr<steward::agent::AgentConfig> config = steward::agent::ParseAgentFlags(argc, argv);
  if (!config.ok()) {
    std::cerr << "steward-agent: " << config.status().message()
              << "\nRun 'steward-agent --help' for the flags." << std::endl;
    return 2;
  }
  if (config->help) {
    std::cout << config->usage;
    return 0;
  }
  steward::common::SetMinLogSeverity(config->logging_level);

  // Signals are taken by sigwait() below, never by a handler: block them in every thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<std::unique_ptr<steward::agent::Containerizer>> containerizer =
      steward::agent::Containerizer::Create(config->containerizer);
  if (!containerizer.ok()) {
    STEWARD_LOG(ERROR) << "Cannot set up containers: " << containerizer.status();
    return 1;
  }
  absl::StatusOr<std::unique_ptr<steward::agent::Agent>> agent =
      steward::agent::Agent::Create(std::move(config->agent), std::move(*containerizer));
  if (!agent.ok()) {
    STEWARD_LOG(ERROR) << "Cannot create the agent: " << agent.status();
    return 1;
  }
  if (absl::Status status = (*agent)->Start(); !status.ok()) {
    STEWARD_LOG(ERROR) << "Cannot start the agent: " << status;
    return 1;
  }

  // The watcher wakes this thread with SIGUSR1 when the agent ends on its own (master ERROR);
  // after a SIGTERM the SIGUSR1 it sends stays blocked and pending, which is harmless.
  absl::Status result;
  const pthread_t main_thread = pthread_self();
  std::thread watcher([&] {
    result = (*agent)->Wait();
    pthread_kill(main_thread, SIGUSR1);
  });
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  if (signal_number == SIGTERM || signal_number == SIGINT) {
    STEWARD_LOG(INFO) << "Received " << (signal_number == SIGTERM ? "SIGTERM" : "SIGINT")
                      << "; stopping (tasks keep running)";
  }
  (*agent)->Stop();
  watcher.join();
  if (!result.ok()) {
    STEWARD_LOG(ERROR) << "Agent exiting: " << result.message();
    return 1;
  }
  return 0;
}
