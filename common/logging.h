// Minimal leveled logging for the daemons, in glog's line format so that operators' tools read
// it: "I1126 00:31:02.123456 4242 master.cc:88] message". Lines go to stderr (systemd's
// journal or the terminal), one write per line, so lines from different threads never mix.
//
//   STEWARD_LOG(INFO) << "registered agent " << id;
//   STEWARD_LOG(WARNING) << ...;   STEWARD_LOG(ERROR) << ...;
//
// Thread-safe.
#ifndef STEWARD_COMMON_LOGGING_H_
#define STEWARD_COMMON_LOGGING_H_

#include <sstream>
#include <string>

namespace steward::common {

enum class LogSeverity { INFO = 0, WARNING = 1, ERROR = 2 };

// Lines below `severity` are dropped (default INFO). Thread-safe.
void SetMinLogSeverity(LogSeverity severity);
LogSeverity MinLogSeverity();

// One log line, written when the object is destroyed (at the end of the full expression).
class LogMessage {
 public:
  LogMessage(LogSeverity severity, const char* file, int line);
  LogMessage(const LogMessage&) = delete;
  LogMessage& operator=(const LogMessage&) = delete;
  ~LogMessage();

  std::ostream& stream() { return stream_; }

 private:
  LogSeverity severity_;
  std::ostringstream stream_;
};

}  // namespace steward::common

#define STEWARD_LOG(severity)                                                                   \
  if (::steward::common::LogSeverity::severity < ::steward::common::MinLogSeverity()) {         \
  } else                                                                                        \
    ::steward::common::LogMessage(::steward::common::LogSeverity::severity, __FILE__, __LINE__) \
        .stream()

#endif  // STEWARD_COMMON_LOGGING_H_
