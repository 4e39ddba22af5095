#include "common/recordio.h"

#include <algorithm>
#include <utility>

namespace steward::common {
namespace {

// Enough digits for any size_t; a longer length is rejected before it is parsed.
constexpr size_t kMaxLengthDigits = 20;

std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 32)) {
    if (c >= 0x20 && c < 0x7f) {
      out += c;
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      const auto byte = static_cast<unsigned char>(c);
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  if (text.size() > 32) out += "...";
  return out;
}

}  // namespace

std::string EncodeRecordIo(std::string_view record) {
  std::string out = std::to_string(record.size());
  out.reserve(out.size() + 1 + record.size());
  out += '\n';
  out.append(record);
  return out;
}

RecordIoDecoder::RecordIoDecoder(size_t max_record_bytes) : max_record_bytes_(max_record_bytes) {}

absl::Status RecordIoDecoder::Fail(absl::Status status) {
  error_ = std::move(status);
  length_text_.clear();
  record_.clear();
  return error_;
}

absl::Status RecordIoDecoder::Decode(std::string_view data, std::vector<std::string>* records) {
  if (!error_.ok()) return error_;
  while (!data.empty()) {
    if (!in_record_) {
      const size_t newline = data.find('\n');
      const std::string_view piece = data.substr(0, newline);
      for (char c : piece) {
        if (c < '0' || c > '9') {
          return Fail(absl::InvalidArgumentError("RecordIO: bad record length '" +
                                                 Printable(length_text_ + std::string(piece)) +
                                                 "': not a decimal number"));
        }
      }
      length_text_.append(piece);
      if (length_text_.size() > kMaxLengthDigits) {
        return Fail(absl::InvalidArgumentError("RecordIO: record length '" +
                                               Printable(length_text_) + "' is too long"));
      }
      if (newline == std::string_view::npos) return absl::OkStatus();
      data.remove_prefix(newline + 1);
      if (length_text_.empty()) {
        return Fail(absl::InvalidArgumentError("RecordIO: empty record length"));
      }
      if (length_text_.size() > 1 && length_text_[0] == '0') {
        return Fail(absl::InvalidArgumentError("RecordIO: record length '" +
                                               Printable(length_text_) + "' has a leading zero"));
      }
      // At most 20 digits: compare as text first so that the value cannot overflow.
      const std::string max_text = std::to_string(max_record_bytes_);
      if (length_text_.size() > max_text.size() ||
          (length_text_.size() == max_text.size() && length_text_ > max_text)) {
        return Fail(absl::ResourceExhaustedError("RecordIO: record length " + length_text_ +
                                                 " exceeds the maximum of " + max_text + " bytes"));
      }
      record_length_ = std::stoull(length_text_);
      length_text_.clear();
      in_record_ = true;
      record_.clear();
      record_.reserve(record_length_);
    }
    const size_t take = std::min(record_length_ - record_.size(), data.size());
    record_.append(data.substr(0, take));
    data.remove_prefix(take);
    if (record_.size() == record_length_) {
      records->push_back(std::move(record_));
      record_ = std::string();
      in_record_ = false;
    }
  }
  return absl::OkStatus();
}

}  // namespace steward::common
