#include "traces/native.h"

#include <bit>
#include <cmath>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "traces/internal/readers.h"

// Layout (all integers little-endian; doubles are IEEE-754 binary64, little-endian):
//   magic    "STEWARD-TRACE" 0x00, then u32 version (1)
//   varint   machine count, then per machine:
//            f64 time, u8 type (0 add, 1 remove), str name, f64 cpus, mem, disk, gpus,
//            varint attribute count, then (str key, str value) pairs
//   records  until the end marker, each starting with a tag byte:
//            'K' str: defines the next key id (0, 1, 2, ...) for the grouping keys below
//            'T' task: f64 submit, f64 duration, f64 cpus, mem, disk, gpus,
//                varint key ids of user, job, app, qos, queue, group,
//                zigzag varint priority, str trace_id
//            'E' varint task count: the end; anything after it is an error
//   str      varint byte length, then the bytes
namespace steward::traces {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the native trace format is written with the host's little-endian layout");

constexpr char kMagic[] = "STEWARD-TRACE";  // and its terminating NUL
constexpr size_t kMagicSize = sizeof(kMagic);
constexpr uint32_t kVersion = 1;
constexpr size_t kFlushAt = 1 << 20;

void PutVarint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void PutDouble(std::string& out, double value) {
  char bytes[8];
  std::memcpy(bytes, &value, 8);
  out.append(bytes, 8);
}

void PutString(std::string& out, const std::string& text) {
  PutVarint(out, text.size());
  out += text;
}

void PutVector(std::string& out, const ResourceVector& v) {
  PutDouble(out, v.cpus);
  PutDouble(out, v.mem);
  PutDouble(out, v.disk);
  PutDouble(out, v.gpus);
}

// Buffered binary input with the format's primitives; every failure names the file and the
// byte offset.
class Input {
 public:
  Input(std::string path, std::FILE* file) : path_(std::move(path)), file_(file) {}
  ~Input() { std::fclose(file_); }

  const std::string& path() const { return path_; }
  uint64_t offset() const { return consumed_ + pos_; }

  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": byte ", offset(), ": ",
                                                   std::string(what)));
  }

  // Makes `n` bytes available; false at a clean end of file before any of them.
  absl::StatusOr<bool> Need(size_t n) {
    if (end_ - pos_ >= n) return true;
    if (end_ > pos_) std::memmove(buffer_.data(), buffer_.data() + pos_, end_ - pos_);
    consumed_ += pos_;
    end_ -= pos_;
    pos_ = 0;
    if (buffer_.size() < n) buffer_.resize(std::max<size_t>(n, 1 << 20));
    if (buffer_.size() < (1 << 20)) buffer_.resize(1 << 20);
    while (end_ < n) {
      const size_t got = std::fread(buffer_.data() + end_, 1, buffer_.size() - end_, file_);
      if (got == 0) {
        if (std::ferror(file_)) return Error(absl::StrCat("read failed: ", std::strerror(errno)));
        if (end_ == 0) return false;
        return Error("unexpected end of file (truncated trace)");
      }
      end_ += got;
    }
    return true;
  }
  absl::Status Bytes(void* out, size_t n) {
    absl::StatusOr<bool> ok = Need(n);
    if (!ok.ok()) return ok.status();
    if (!*ok) return Error("unexpected end of file (truncated trace)");
    std::memcpy(out, buffer_.data() + pos_, n);
    pos_ += n;
    return absl::OkStatus();
  }
  absl::Status Double(double* out) { return Bytes(out, 8); }
  absl::Status Varint(uint64_t* out) {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t byte = 0;
      if (absl::Status s = Bytes(&byte, 1); !s.ok()) return s;
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *out = value;
        return absl::OkStatus();
      }
    }
    return Error("malformed varint");
  }
  absl::Status String(std::string* out) {
    uint64_t size = 0;
    if (absl::Status s = Varint(&size); !s.ok()) return s;
    if (size > (1u << 30)) return Error("string length out of range");
    out->resize(size);
    return size == 0 ? absl::OkStatus() : Bytes(out->data(), size);
  }
  absl::Status Vector(ResourceVector* v) {
    for (double* field : {&v->cpus, &v->mem, &v->disk, &v->gpus}) {
      if (absl::Status s = Double(field); !s.ok()) return s;
      if (!std::isfinite(*field) || *field < 0) return Error("resource amount out of range");
    }
    return absl::OkStatus();
  }

 private:
  std::string path_;
  std::FILE* file_;
  std::vector<char> buffer_;
  size_t pos_ = 0;
  size_t end_ = 0;
  uint64_t consumed_ = 0;
};

class NativeReader : public TraceReader {
 public:
  NativeReader(std::unique_ptr<Input> input, const ReadOptions& options)
      : input_(std::move(input)), options_(options) {}

  absl::Status ReadHeader() {
    char magic[kMagicSize];
    if (absl::Status s = input_->Bytes(magic, kMagicSize); !s.ok()) {
      return input_->Error("not a Steward native trace (too short)");
    }
    if (std::memcmp(magic, kMagic, kMagicSize) != 0) {
      return input_->Error("not a Steward native trace (bad magic)");
    }
    uint32_t version = 0;
    if (absl::Status s = input_->Bytes(&version, 4); !s.ok()) return s;
    if (version != kVersion) {
      return input_->Error(absl::StrCat("unsupported native trace version ", version));
    }
    uint64_t count = 0;
    if (absl::Status s = input_->Varint(&count); !s.ok()) return s;
    for (uint64_t i = 0; i < count; ++i) {
      MachineEvent event;
      uint8_t type = 0;
      if (absl::Status s = input_->Double(&event.time); !s.ok()) return s;
      if (absl::Status s = input_->Bytes(&type, 1); !s.ok()) return s;
      if (type > 1) return input_->Error("bad machine event type");
      event.type = type == 0 ? MachineEvent::Type::kAdd : MachineEvent::Type::kRemove;
      if (absl::Status s = input_->String(&event.name); !s.ok()) return s;
      if (absl::Status s = input_->Vector(&event.capacity); !s.ok()) return s;
      uint64_t attributes = 0;
      if (absl::Status s = input_->Varint(&attributes); !s.ok()) return s;
      for (uint64_t a = 0; a < attributes; ++a) {
        std::pair<std::string, std::string> attribute;
        if (absl::Status s = input_->String(&attribute.first); !s.ok()) return s;
        if (absl::Status s = input_->String(&attribute.second); !s.ok()) return s;
        event.attributes.push_back(std::move(attribute));
      }
      machines_.push_back(std::move(event));
    }
    stats_.machine_events = static_cast<int64_t>(machines_.size());
    return absl::OkStatus();
  }

  const std::vector<MachineEvent>& machines() const override { return machines_; }
  const ReadStats& stats() const override { return stats_; }

  absl::StatusOr<bool> Next(TaskRecord* task) override {
    if (done_) return false;
    if (options_.limit > 0 && stats_.tasks >= options_.limit) return false;
    while (true) {
      uint8_t tag = 0;
      absl::StatusOr<bool> more = input_->Need(1);
      if (!more.ok()) return more.status();
      if (!*more) return input_->Error("unexpected end of file before the end marker (truncated trace)");
      if (absl::Status s = input_->Bytes(&tag, 1); !s.ok()) return s;
      if (tag == 'K') {
        std::string key;
        if (absl::Status s = input_->String(&key); !s.ok()) return s;
        keys_.push_back(std::move(key));
        continue;
      }
      if (tag == 'E') {
        uint64_t count = 0;
        if (absl::Status s = input_->Varint(&count); !s.ok()) return s;
        if (count != records_) {
          return input_->Error(absl::StrCat("end marker counts ", count, " tasks, file has ", records_));
        }
        absl::StatusOr<bool> trailing = input_->Need(1);
        if (!trailing.ok()) return trailing.status();
        if (*trailing) return input_->Error("data after the end marker");
        done_ = true;
        return false;
      }
      if (tag != 'T') return input_->Error(absl::StrCat("unknown record tag ", static_cast<int>(tag)));
      return ReadTask(task);
    }
  }

 private:
  absl::StatusOr<bool> ReadTask(TaskRecord* task) {
    if (absl::Status s = input_->Double(&task->submit_time); !s.ok()) return s;
    if (absl::Status s = input_->Double(&task->duration); !s.ok()) return s;
    if (!std::isfinite(task->submit_time) || task->submit_time < 0 ||
        !std::isfinite(task->duration) || task->duration < 0) {
      return input_->Error("task time out of range");
    }
    if (absl::Status s = input_->Vector(&task->demand); !s.ok()) return s;
    for (std::string* key : {&task->user, &task->job, &task->app, &task->qos, &task->queue,
                             &task->group}) {
      uint64_t id = 0;
      if (absl::Status s = input_->Varint(&id); !s.ok()) return s;
      if (id >= keys_.size()) return input_->Error("undefined key id");
      *key = keys_[id];
    }
    uint64_t zigzag = 0;
    if (absl::Status s = input_->Varint(&zigzag); !s.ok()) return s;
    task->priority = static_cast<int64_t>(zigzag >> 1) ^ -static_cast<int64_t>(zigzag & 1);
    if (absl::Status s = input_->String(&task->trace_id); !s.ok()) return s;
    ++records_;
    ++stats_.tasks;
    ++stats_.lines;
    return true;
  }

  std::unique_ptr<Input> input_;
  ReadOptions options_;
  std::vector<MachineEvent> machines_;
  std::vector<std::string> keys_;
  ReadStats stats_;
  uint64_t records_ = 0;
  bool done_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<NativeWriter>> NativeWriter::Create(
    const std::string& path, const std::vector<MachineEvent>& machines) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot create: ", std::strerror(errno)));
  }
  std::unique_ptr<NativeWriter> writer(new NativeWriter(path, file));
  std::string& out = writer->buffer_;
  out.append(kMagic, kMagicSize);
  const uint32_t version = kVersion;
  out.append(reinterpret_cast<const char*>(&version), 4);
  PutVarint(out, machines.size());
  for (const MachineEvent& event : machines) {
    PutDouble(out, event.time);
    out.push_back(event.type == MachineEvent::Type::kAdd ? 0 : 1);
    PutString(out, event.name);
    PutVector(out, event.capacity);
    PutVarint(out, event.attributes.size());
    for (const auto& [key, value] : event.attributes) {
      PutString(out, key);
      PutString(out, value);
    }
  }
  return writer;
}

NativeWriter::~NativeWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

uint64_t NativeWriter::KeyId(const std::string& key) {
  const auto it = keys_.find(key);
  if (it != keys_.end()) return it->second;
  const uint64_t id = keys_.size();
  keys_.emplace(key, id);
  buffer_.push_back('K');
  PutString(buffer_, key);
  return id;
}

absl::Status NativeWriter::Flush() {
  if (buffer_.empty()) return absl::OkStatus();
  if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
    return absl::DataLossError(absl::StrCat(path_, ": write failed: ", std::strerror(errno)));
  }
  buffer_.clear();
  return absl::OkStatus();
}

absl::Status NativeWriter::Write(const TaskRecord& task) {
  if (file_ == nullptr) return absl::FailedPreconditionError("native trace already closed");
  uint64_t ids[6];
  const std::string* keys[6] = {&task.user, &task.job, &task.app, &task.qos, &task.queue, &task.group};
  for (int k = 0; k < 6; ++k) ids[k] = KeyId(*keys[k]);
  buffer_.push_back('T');
  PutDouble(buffer_, task.submit_time);
  PutDouble(buffer_, task.duration);
  PutVector(buffer_, task.demand);
  for (uint64_t id : ids) PutVarint(buffer_, id);
  PutVarint(buffer_, (static_cast<uint64_t>(task.priority) << 1) ^
                         static_cast<uint64_t>(task.priority >> 63));
  PutString(buffer_, task.trace_id);
  ++tasks_;
  return buffer_.size() >= kFlushAt ? Flush() : absl::OkStatus();
}

absl::Status NativeWriter::Close() {
  if (file_ == nullptr) return absl::OkStatus();
  buffer_.push_back('E');
  PutVarint(buffer_, static_cast<uint64_t>(tasks_));
  absl::Status status = Flush();
  if (std::fclose(file_) != 0 && status.ok()) {
    status = absl::DataLossError(absl::StrCat(path_, ": close failed: ", std::strerror(errno)));
  }
  file_ = nullptr;
  return status;
}

absl::Status ConvertToNative(TraceReader& reader, const std::string& path) {
  absl::StatusOr<std::unique_ptr<NativeWriter>> writer = NativeWriter::Create(path, reader.machines());
  if (!writer.ok()) return writer.status();
  TaskRecord task;
  while (true) {
    absl::StatusOr<bool> more = reader.Next(&task);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (absl::Status s = (*writer)->Write(task); !s.ok()) return s;
  }
  return (*writer)->Close();
}

namespace internal {

ReaderOr OpenNative(const Paths& paths, const ReadOptions& options) {
  if (paths.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("native traces are one file each; got ", paths.size(), " files"));
  }
  std::FILE* file = std::fopen(paths[0].c_str(), "rb");
  if (file == nullptr) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(paths[0], ": no such file"));
    return absl::InvalidArgumentError(absl::StrCat(paths[0], ": cannot open: ", std::strerror(errno)));
  }
  auto reader = std::make_unique<NativeReader>(std::make_unique<Input>(paths[0], file), options);
  if (absl::Status s = reader->ReadHeader(); !s.ok()) return s;
  return std::unique_ptr<TraceReader>(std::move(reader));
}

}  // namespace internal
}  // namespace steward::traces
