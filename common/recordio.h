// RecordIO framing as Mesos uses it for event streams: every record is its length in bytes
// as ASCII decimal, a '\n', then exactly that many bytes ("5\nhello"). The decoder is
// incremental: it accepts the stream in chunks cut anywhere, including inside a length.
#ifndef STEWARD_COMMON_RECORDIO_H_
#define STEWARD_COMMON_RECORDIO_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace steward::common {

// Default largest record a decoder accepts (64 MiB).
inline constexpr size_t kDefaultMaxRecordBytes = size_t{64} << 20;

// Returns `record` framed as "<length>\n<record>".
std::string EncodeRecordIo(std::string_view record);

// Incremental RecordIO decoder. Not thread-safe (one decoder per stream).
class RecordIoDecoder {
 public:
  explicit RecordIoDecoder(size_t max_record_bytes = kDefaultMaxRecordBytes);

  // Consumes `data` and appends every record it completes to `*records`. Returns
  // InvalidArgument for a length that is empty, not decimal digits or has a leading zero
  // before other digits, and ResourceExhausted for a length above the maximum. After an
  // error the decoder stays failed and returns the same error for every later call.
  absl::Status Decode(std::string_view data, std::vector<std::string>* records);

  // True when no partial record (or partial length) is buffered: the stream may end here.
  bool AtRecordBoundary() const { return !in_record_ && length_text_.empty(); }

 private:
  absl::Status Fail(absl::Status status);

  size_t max_record_bytes_;
  absl::Status error_;
  bool in_record_ = false;   // Length read; collecting `record_length_` bytes in `record_`.
  std::string length_text_;  // Digits of the length read so far.
  size_t record_length_ = 0;
  std::string record_;
};

}  // namespace steward::common

#endif  // STEWARD_COMMON_RECORDIO_H_
