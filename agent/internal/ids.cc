#include "agent/internal/ids.h"

#include <cstdint>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"

namespace steward::agent::internal {

std::string RandomUuidBytes() {
  thread_local absl::BitGen generator;
  std::string bytes(16, '\0');
  for (char& byte : bytes) {
    byte = static_cast<char>(absl::Uniform<uint32_t>(generator, 0, 256));
  }
  bytes[6] = static_cast<char>((static_cast<uint8_t>(bytes[6]) & 0x0F) | 0x40);  // Version 4.
  bytes[8] = static_cast<char>((static_cast<uint8_t>(bytes[8]) & 0x3F) | 0x80);  // RFC 4122.
  return bytes;
}

std::string UuidToString(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  text.reserve(bytes.size() * 2 + 4);
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (bytes.size() == 16 && (i == 4 || i == 6 || i == 8 || i == 10)) text.push_back('-');
    const auto byte = static_cast<uint8_t>(bytes[i]);
    text.push_back(kHex[byte >> 4]);
    text.push_back(kHex[byte & 0x0F]);
  }
  return text;
}

absl::Status ValidatePathId(std::string_view kind_view, std::string_view id_view) {
  const std::string kind(kind_view);
  const std::string id(id_view);
  if (id.empty()) return absl::InvalidArgumentError(absl::StrCat(kind, " is empty"));
  if (id == "." || id == "..") {
    return absl::InvalidArgumentError(absl::StrCat(kind, " '", id, "' is not allowed"));
  }
  for (const char c : id) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '/' || c == '\\' || byte < 0x20 || byte == 0x7F || c == ' ') {
      return absl::InvalidArgumentError(
          absl::StrCat(kind, " '", id, "' contains '/', '\\', whitespace or a control character"));
    }
  }
  return absl::OkStatus();
}

}  // namespace steward::agent::internal
