// Line-at-a-time reading of plain or gzip-compressed text files in constant memory.
#ifndef STEWARD_TRACES_INTERNAL_LINE_READER_H_
#define STEWARD_TRACES_INTERNAL_LINE_READER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace steward::traces::internal {

// Reads a file line by line. Compression is recognised by the gzip magic bytes, not by the
// name, so `foo.csv` and `foo.csv.gz` both work whatever they hold. Lines may be of any
// length (huge headers included); memory stays at one buffer plus the longest line.
class LineReader {
 public:
  // NotFound if the file does not exist, InvalidArgument if it cannot be read.
  static absl::StatusOr<std::unique_ptr<LineReader>> Open(const std::string& path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line without its "\n" or "\r\n"; false at the end of the file. `line` stays valid
  // until the next call. A corrupt compressed stream is a DataLoss error naming file:line.
  absl::StatusOr<bool> Next(std::string_view* line);

  // 1-based number of the line last returned (0 before the first).
  int64_t line_number() const { return line_number_; }
  const std::string& path() const { return path_; }
  // "path:line" of the line last returned, for messages.
  std::string Where() const;

 private:
  LineReader(std::string path, void* file);
  // Reads more compressed or plain bytes into buffer_; false at end of file.
  absl::StatusOr<bool> Fill();

  std::string path_;
  void* file_;  // gzFile (kept opaque so that zlib.h stays out of this header)
  std::string buffer_;
  size_t begin_ = 0;  // start of unread data in buffer_
  size_t end_ = 0;    // end of valid data in buffer_
  bool eof_ = false;
  int64_t line_number_ = 0;
};

}  // namespace steward::traces::internal

#endif  // STEWARD_TRACES_INTERNAL_LINE_READER_H_
