#include "traces/internal/line_reader.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace steward::traces::internal {
namespace {

constexpr size_t kChunk = 1 << 20;

gzFile AsGz(void* file) { return static_cast<gzFile>(file); }

}  // namespace

absl::StatusOr<std::unique_ptr<LineReader>> LineReader::Open(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  }
  if (std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory, not a trace file"));
  }
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  gzbuffer(file, 256 * 1024);
  return std::unique_ptr<LineReader>(new LineReader(path, file));
}

LineReader::LineReader(std::string path, void* file) : path_(std::move(path)), file_(file) {}

LineReader::~LineReader() { gzclose(AsGz(file_)); }

std::string LineReader::Where() const { return absl::StrCat(path_, ":", line_number_); }

absl::StatusOr<bool> LineReader::Fill() {
  if (eof_) return false;
  // Keep the unread tail, then append a chunk.
  if (begin_ > 0) {
    buffer_.erase(0, begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  buffer_.resize(end_ + kChunk);
  const int n = gzread(AsGz(file_), buffer_.data() + end_, static_cast<unsigned>(kChunk));
  if (n < 0) {
    int code = 0;
    const char* message = gzerror(AsGz(file_), &code);
    return absl::DataLossError(absl::StrCat(path_, ":", line_number_ + 1, ": cannot read: ",
                                            message == nullptr ? "unknown error" : message));
  }
  end_ += static_cast<size_t>(n);
  buffer_.resize(end_);
  if (n == 0) eof_ = true;
  return n > 0;
}

absl::StatusOr<bool> LineReader::Next(std::string_view* line) {
  size_t scanned = begin_;
  while (true) {
    const void* found = std::memchr(buffer_.data() + scanned, '\n', end_ - scanned);
    if (found != nullptr) {
      const size_t newline = static_cast<size_t>(static_cast<const char*>(found) - buffer_.data());
      size_t stop = newline;
      if (stop > begin_ && buffer_[stop - 1] == '\r') --stop;
      *line = std::string_view(buffer_.data() + begin_, stop - begin_);
      begin_ = newline + 1;
      ++line_number_;
      return true;
    }
    const size_t unread = end_ - begin_;  // holds no newline
    absl::StatusOr<bool> more = Fill();
    if (!more.ok()) return more.status();
    if (!*more) {
      if (end_ == begin_) return false;  // clean end of file
      // Last line without a newline.
      size_t stop = end_;
      if (stop > begin_ && buffer_[stop - 1] == '\r') --stop;
      *line = std::string_view(buffer_.data() + begin_, stop - begin_);
      begin_ = end_;
      ++line_number_;
      return true;
    }
    // Fill moved the unread tail to the front: scan only the bytes it appended.
    scanned = unread;
  }
}

}  // namespace steward::traces::internal
