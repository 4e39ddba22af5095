// Random UUIDs for status updates and container ids, and the check that makes a
// framework-chosen id safe to use as a sandbox path component.
//
// Thread safety: all functions are thread-safe.
#ifndef STEWARD_AGENT_INTERNAL_IDS_H_
#define STEWARD_AGENT_INTERNAL_IDS_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace steward::agent::internal {

// 16 random bytes laid out as an RFC 4122 version 4 UUID (as TaskStatus.uuid carries them).
std::string RandomUuidBytes();

// The canonical text form ("8-4-4-4-12" lower-case hex) of 16 UUID bytes; other lengths are
// printed as plain hex.
std::string UuidToString(std::string_view bytes);

// A fresh random UUID in text form (container ids).
inline std::string RandomUuidString() { return UuidToString(RandomUuidBytes()); }

// Returns InvalidArgument naming `kind` ("task id", ...) unless `id` is non-empty, not "."
// or "..", and free of '/', '\\', control characters and whitespace, as Mesos requires of
// ids that become directory names.
absl::Status ValidatePathId(std::string_view kind, std::string_view id);

}  // namespace steward::agent::internal

#endif  // STEWARD_AGENT_INTERNAL_IDS_H_
