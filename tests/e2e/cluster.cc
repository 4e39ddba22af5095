#include "tests/e2e/cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/http_client.h"

extern char** environ;

namespace steward::e2e {
namespace {

using Clock = std::chrono::steady_clock;

constexpr milliseconds kPoll(10);
constexpr milliseconds kStartTimeout(20000);

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

// This process's environment without STEWARD_* variables (so that a developer's shell does
// not leak flags into the daemons and the CLI), plus `extra`.
std::vector<std::string> ChildEnvironment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    const std::string name(text.substr(0, text.find('=')));
    if (name.starts_with("STEWARD_") || extra.contains(name)) continue;
    env.emplace_back(text);
  }
  for (const auto& [name, value] : extra) env.push_back(absl::StrCat(name, "=", value));
  return env;
}

// In a forked child: async-signal-safe calls only (the test process has threads). Reports
// `err` through `fd` and exits.
[[noreturn]] void ChildFailed(int fd, int err) {
  (void)!::write(fd, &err, sizeof(err));
  ::_exit(127);
}

absl::StatusOr<pid_t> SpawnChild(const std::string& binary, const std::vector<std::string>& args,
                                 const std::string& dir, const std::string& stdout_path,
                                 const std::string& stderr_path,
                                 const std::map<std::string, std::string>& extra_env) {
  // Everything the child needs is made before fork().
  std::vector<std::string> argv_storage = {binary};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage = ChildEnvironment(extra_env);
  std::vector<char*> envp;
  for (std::string& entry : env_storage) envp.push_back(entry.data());
  envp.push_back(nullptr);
  // The child writes its errno here if it cannot exec; exec closes it (O_CLOEXEC).
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
  }
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(report[0]);
    // The child dies with the test: SIGKILL as soon as the thread that forked it ends, however
    // the test ends (a crash, SIGKILL, ctest's timeout). If the test died before prctl(), the
    // child has been re-parented already and exits itself.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ChildFailed(report[1], errno);
    if (::getppid() != parent) ::_exit(127);
    // Default signal dispositions and an empty signal mask, whatever the test set.
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    for (int signo = 1; signo < NSIG; ++signo) ::sigaction(signo, &default_action, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0) ChildFailed(report[1], errno);
    if (::dup2(in, STDIN_FILENO) < 0 || ::dup2(out, STDOUT_FILENO) < 0 ||
        ::dup2(err, STDERR_FILENO) < 0 || ::chdir(dir.c_str()) != 0) {
      ChildFailed(report[1], errno);
    }
    for (int fd : {in, out, err}) {
      if (fd > STDERR_FILENO) ::close(fd);
    }
    ::execve(binary.c_str(), argv.data(), envp.data());
    ChildFailed(report[1], errno);
  }
  const int fork_error = errno;
  ::close(report[1]);
  if (pid < 0) {
    ::close(report[0]);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(fork_error)));
  }
  int child_error = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &child_error, sizeof(child_error));
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof(child_error))) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return absl::InternalError(
        absl::StrCat("cannot start ", binary, ": ", std::strerror(child_error)));
  }
  return pid;
}

}  // namespace

Deadline::Deadline(milliseconds budget)
    : budget_(std::min(budget, kMaxWait)), end_(std::chrono::steady_clock::now() + budget_) {}

milliseconds Deadline::Remaining() const {
  const auto left = end_ - std::chrono::steady_clock::now();
  return left <= left.zero() ? milliseconds(0) : std::chrono::duration_cast<milliseconds>(left);
}

absl::StatusOr<uint16_t> FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const int error = errno;
    ::close(fd);
    return absl::InternalError(absl::StrCat("bind 127.0.0.1:0: ", std::strerror(error)));
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

absl::Status WaitForHealth(const std::string& host, uint16_t port, milliseconds timeout) {
  const Deadline deadline(timeout);
  common::HttpClient::Options options;
  options.timeout = milliseconds(1000);
  std::string last = "no answer yet";
  while (!deadline.Expired()) {
    common::HttpClient client(host, port, options);
    absl::StatusOr<common::HttpResponse> response = client.Get("/health");
    if (response.ok() && response->status == 200) return absl::OkStatus();
    last = response.ok() ? absl::StrCat("HTTP ", response->status)
                         : std::string(response.status().message());
    std::this_thread::sleep_for(milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat("GET http://", host, ":", port,
                                                  "/health did not answer 200 within ",
                                                  deadline.budget().count(), " ms: ", last));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// ---- Process

Process::Process(std::string name, pid_t pid, std::string stdout_path, std::string stderr_path)
    : name_(std::move(name)),
      pid_(pid),
      stdout_path_(std::move(stdout_path)),
      stderr_path_(std::move(stderr_path)) {}

absl::StatusOr<std::unique_ptr<Process>> Process::Spawn(
    const std::string& name, const std::string& binary, const std::vector<std::string>& args,
    const std::string& dir, const std::map<std::string, std::string>& env) {
  const std::string out = absl::StrCat(dir, "/", name, ".stdout");
  const std::string err = absl::StrCat(dir, "/", name, ".stderr");
  absl::StatusOr<pid_t> pid = SpawnChild(binary, args, dir, out, err, env);
  if (!pid.ok()) return pid.status();
  return std::unique_ptr<Process>(new Process(name, *pid, out, err));
}

Process::~Process() {
  if (Running()) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

bool Process::Running() {
  if (exit_code_) return false;
  int status = 0;
  const pid_t done = ::waitpid(pid_, &status, WNOHANG);
  if (done == pid_) {
    exit_code_ = ExitCodeOf(status);
    return false;
  }
  return done == 0;
}

absl::StatusOr<int> Process::Wait(milliseconds timeout) {
  const Deadline deadline(timeout);
  while (Running()) {
    if (deadline.Expired()) {
      return absl::DeadlineExceededError(absl::StrCat(name_, " (pid ", pid_, ") still runs after ",
                                                      deadline.budget().count(), " ms"));
    }
    std::this_thread::sleep_for(kPoll);
  }
  return exit_code_.value_or(-1);
}

int Process::Stop(milliseconds grace) {
  if (!Running()) return exit_code_.value_or(-1);
  ::kill(pid_, SIGTERM);
  if (absl::StatusOr<int> code = Wait(grace); code.ok()) return *code;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  exit_code_ = ExitCodeOf(status);
  return *exit_code_;
}

absl::StatusOr<std::string> Process::WaitForLine(const std::string& prefix, milliseconds timeout) {
  const Deadline deadline(timeout);
  while (true) {
    std::istringstream lines(Stdout());
    std::string line;
    while (std::getline(lines, line)) {
      if (line.starts_with(prefix)) return line.substr(prefix.size());
    }
    if (!Running()) {
      return absl::FailedPreconditionError(
          absl::StrCat(name_, " exited with code ", exit_code_.value_or(-1), " before printing '",
                       prefix, "'; stderr:\n", Stderr()));
    }
    if (deadline.Expired()) {
      return absl::DeadlineExceededError(absl::StrCat(
          name_, " did not print '", prefix, "' within ", deadline.budget().count(), " ms"));
    }
    std::this_thread::sleep_for(kPoll);
  }
}

CommandResult RunCommand(const std::string& binary, const std::vector<std::string>& args,
                         const std::string& dir, milliseconds timeout,
                         const std::map<std::string, std::string>& env) {
  static std::atomic<int> counter{0};
  const std::string name = absl::StrCat("command-", ::getpid(), "-", counter++);
  CommandResult result;
  absl::StatusOr<std::unique_ptr<Process>> process = Process::Spawn(name, binary, args, dir, env);
  if (!process.ok()) {
    result.err = std::string(process.status().message());
    return result;
  }
  absl::StatusOr<int> code = (*process)->Wait(timeout);
  if (!code.ok()) {
    result.timed_out = true;
    code = (*process)->Stop(milliseconds(2000));
  }
  result.exit_code = *code;
  result.out = (*process)->Stdout();
  result.err = (*process)->Stderr();
  std::filesystem::remove(absl::StrCat(dir, "/", name, ".stdout"));
  std::filesystem::remove(absl::StrCat(dir, "/", name, ".stderr"));
  return result;
}

std::vector<pid_t> TaskSupervisors(const std::string& dir) {
  std::vector<pid_t> pids;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename().string();
    pid_t pid = 0;
    if (!absl::SimpleAtoi(name, &pid) || pid <= 0) continue;
    // argv[0] is the supervisor's name and its last argument the container's runtime
    // directory, under the agent's work_dir (agent/containerizer.h).
    const std::string cmdline = ReadFile(entry.path().string() + "/cmdline");
    std::vector<std::string> argv;
    for (size_t start = 0; start < cmdline.size();) {
      const size_t end = cmdline.find('\0', start);
      argv.push_back(cmdline.substr(start, end - start));
      if (end == std::string::npos) break;
      start = end + 1;
    }
    if (argv.size() >= 2 && argv.front() == "steward-container-supervisor" &&
        argv.back().starts_with(dir + "/")) {
      pids.push_back(pid);
    }
  }
  return pids;
}

void StopTaskSupervisors(const std::string& dir) {
  for (pid_t pid : TaskSupervisors(dir)) ::kill(pid, SIGTERM);  // each kills its task, exits
  const Clock::time_point deadline = Clock::now() + milliseconds(5000);
  // (An exited supervisor may linger as a zombie until init reaps it; its cmdline is empty.)
  while (!TaskSupervisors(dir).empty() && Clock::now() < deadline) {
    std::this_thread::sleep_for(kPoll);
  }
  for (pid_t pid : TaskSupervisors(dir)) ::kill(pid, SIGKILL);
}

// ---- Cluster

absl::StatusOr<std::unique_ptr<Cluster>> Cluster::Create() {
  std::string pattern = (std::filesystem::temp_directory_path() / "steward-e2e-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp ", pattern, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<Cluster>(new Cluster(pattern));
}

Cluster::~Cluster() {
  for (auto it = agents_.rbegin(); it != agents_.rend(); ++it) {
    if (*it) (*it)->Stop();
  }
  if (master_) master_->Stop();
  agents_.clear();
  master_.reset();
  StopTaskSupervisors(dir_);
  RemoveAgentCgroups();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string Cluster::cgroups_root() const {
  return std::filesystem::path(dir_).filename().string();
}

void Cluster::RemoveAgentCgroups() const {
  // The agents log where their parent cgroups are: "...; isolation: cgroups vN (cpu, memory)
  // in /sys/fs/cgroup/cpu/<root>, /sys/fs/cgroup/memory/.../<root>".
  const std::string own = cgroups_root();
  std::set<std::string> parents;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, error)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("agent") || !name.ends_with(".stderr")) continue;
    std::istringstream log(ReadFile(entry.path().string()));
    for (std::string line; std::getline(log, line);) {
      const size_t isolation = line.find("; isolation: cgroups v");
      const size_t in = line.find(") in ", isolation);
      if (isolation == std::string::npos || in == std::string::npos) continue;
      for (absl::string_view parent : absl::StrSplit(line.substr(in + 5), ", ")) {
        // Only cgroups this cluster named, never another agent's.
        if (std::filesystem::path(std::string(parent)).filename().string() == own) {
          parents.emplace(parent);
        }
      }
    }
  }
  for (const std::string& parent : parents) {
    // Container cgroups left behind (their processes are gone), then the parent; an empty
    // cgroup is removed with rmdir.
    for (const auto& child : std::filesystem::directory_iterator(parent, error)) {
      if (child.is_directory(error)) ::rmdir(child.path().c_str());
    }
    ::rmdir(parent.c_str());
  }
}

absl::StatusOr<std::unique_ptr<Process>> Cluster::SpawnMaster(const std::string& name,
                                                              const std::vector<std::string>& args,
                                                              uint16_t* port) const {
  absl::StatusOr<std::unique_ptr<Process>> process =
      Process::Spawn(name, STEWARD_MASTER_BINARY, args, dir_);
  if (!process.ok()) return process.status();
  absl::StatusOr<std::string> address =
      (*process)->WaitForLine("steward-master listening on ", kStartTimeout);
  if (!address.ok()) return address.status();
  const size_t colon = address->rfind(':');
  int number = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address->substr(colon + 1), &number) ||
      number <= 0 || number > 65535) {
    return absl::DataLossError(absl::StrCat("cannot read the master's port from '", *address, "'"));
  }
  *port = static_cast<uint16_t>(number);
  if (absl::Status s = WaitForHealth("127.0.0.1", *port, kStartTimeout); !s.ok()) return s;
  return process;
}

absl::StatusOr<std::unique_ptr<Process>> Cluster::SpawnAgent(const std::string& name,
                                                             const std::vector<std::string>& args,
                                                             uint16_t port) const {
  absl::StatusOr<std::unique_ptr<Process>> process =
      Process::Spawn(name, STEWARD_AGENT_BINARY, args, dir_);
  if (!process.ok()) return process.status();
  if (absl::Status s = WaitForHealth("127.0.0.1", port, kStartTimeout); !s.ok()) {
    return absl::Status(s.code(),
                        absl::StrCat(s.message(), "; agent stderr:\n", (*process)->Stderr()));
  }
  return process;
}

absl::StatusOr<Process*> Cluster::StartMaster(const std::vector<std::string>& flags) {
  if (master_ || master_starts_ > 0) {
    return absl::FailedPreconditionError("this cluster already has a master");
  }
  std::vector<std::string> args = {"--ip=127.0.0.1", "--port=0",
                                   absl::StrCat("--work_dir=", dir_, "/master")};
  args.insert(args.end(), flags.begin(), flags.end());
  master_args_ = args;
  ++master_starts_;
  absl::StatusOr<std::unique_ptr<Process>> process = SpawnMaster("master", args, &master_port_);
  if (!process.ok()) return process.status();
  master_ = *std::move(process);
  return master_.get();
}

namespace {

// Sends `signal` to `process` and waits for it to exit.
int StopBySignal(Process& process, int signal) {
  if (signal == SIGTERM) return process.Stop();
  if (process.Running()) ::kill(process.pid(), signal);
  if (absl::StatusOr<int> code = process.Wait(milliseconds(5000)); code.ok()) return *code;
  return process.Stop(milliseconds(0));
}

}  // namespace

absl::StatusOr<int> Cluster::StopMaster(int signal) {
  if (!master_) return absl::FailedPreconditionError("the master is not running");
  const int code = StopBySignal(*master_, signal);
  master_.reset();
  return code;
}

absl::StatusOr<Process*> Cluster::RestartMaster() {
  if (master_) return absl::FailedPreconditionError("the master is still running");
  if (master_starts_ == 0) return absl::FailedPreconditionError("the master was never started");
  std::vector<std::string> args = master_args_;
  for (std::string& arg : args) {
    if (arg == "--port=0") arg = absl::StrCat("--port=", master_port_);
  }
  uint16_t port = 0;
  absl::StatusOr<std::unique_ptr<Process>> process =
      SpawnMaster(absl::StrCat("master-r", master_starts_++), args, &port);
  if (!process.ok()) return process.status();
  master_ = *std::move(process);
  return master_.get();
}

std::string Cluster::master() const { return absl::StrCat("127.0.0.1:", master_port_); }

bool Cluster::HasAgentBinary() {
  const std::string binary = STEWARD_AGENT_BINARY;
  return !binary.empty() && ::access(binary.c_str(), X_OK) == 0;
}

absl::StatusOr<Process*> Cluster::StartAgent(const std::vector<std::string>& flags) {
  if (master_starts_ == 0) return absl::FailedPreconditionError("start the master first");
  if (!HasAgentBinary()) {
    return absl::FailedPreconditionError("this build has no steward-agent binary");
  }
  absl::StatusOr<uint16_t> port = FreePort();
  if (!port.ok()) return port.status();
  const size_t n = agents_.size();
  std::vector<std::string> args = {absl::StrCat("--master=", master()), "--ip=127.0.0.1",
                                   absl::StrCat("--port=", *port),
                                   absl::StrCat("--work_dir=", agent_work_dir(n))};
  if (std::none_of(flags.begin(), flags.end(),
                   [](const std::string& flag) { return flag.starts_with("--cgroups_root="); })) {
    args.push_back(absl::StrCat("--cgroups_root=", cgroups_root()));
  }
  args.insert(args.end(), flags.begin(), flags.end());
  agents_.emplace_back();
  agent_args_.push_back(args);
  agent_starts_.push_back(1);
  agent_ports_.push_back(*port);
  absl::StatusOr<std::unique_ptr<Process>> process =
      SpawnAgent(absl::StrCat("agent", n), args, *port);
  if (!process.ok()) return process.status();
  agents_[n] = *std::move(process);
  return agents_[n].get();
}

std::string Cluster::agent_work_dir(size_t n) const { return absl::StrCat(dir_, "/agent", n); }

absl::StatusOr<int> Cluster::StopAgent(size_t n, int signal) {
  if (n >= agents_.size()) return absl::OutOfRangeError(absl::StrCat("no agent #", n));
  if (!agents_[n]) return absl::FailedPreconditionError(absl::StrCat("agent #", n, " is stopped"));
  const int code = StopBySignal(*agents_[n], signal);
  agents_[n].reset();
  return code;
}

absl::StatusOr<Process*> Cluster::RestartAgent(size_t n) {
  if (n >= agents_.size()) return absl::OutOfRangeError(absl::StrCat("no agent #", n));
  if (agents_[n]) {
    return absl::FailedPreconditionError(absl::StrCat("agent #", n, " is still running"));
  }
  absl::StatusOr<std::unique_ptr<Process>> process = SpawnAgent(
      absl::StrCat("agent", n, "-r", agent_starts_[n]++), agent_args_[n], agent_ports_[n]);
  if (!process.ok()) return process.status();
  agents_[n] = *std::move(process);
  return agents_[n].get();
}

std::string Cluster::CliBinary() { return STEWARD_CLI_BINARY; }

CommandResult Cluster::Steward(const std::vector<std::string>& args, milliseconds timeout) const {
  std::vector<std::string> full = {absl::StrCat("--master=", master())};
  full.insert(full.end(), args.begin(), args.end());
  return RunCommand(CliBinary(), full, dir_, timeout);
}

}  // namespace steward::e2e
