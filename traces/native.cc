#include "traces/native.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>

#include "absl/base/attributes.h"
#include "absl/strings/str_cat.h"
#include "traces/internal/readers.h"

// Layout (all integers little-endian; doubles are IEEE-754 binary64, little-endian):
//   magic    "STEWARD-TRACE" 0x00, then u32 version (2; other versions are rejected)
//   varint   machine count, then per machine:
//            f64 time, u8 type (0 add, 1 remove), str name, f64 cpus, mem, disk, gpus,
//            varint attribute count, then (str key, str value) pairs
//   records  until the end marker, each starting with a tag byte:
//            'K' str: defines the next key id (0, 1, 2, ...) for the grouping keys below
//            'T' task: body, then str trace_id
//            'G' group: body, then str prefix, varint first, varint count (>= 2): `count`
//                tasks identical but for trace_id, which is prefix + the decimal index
//                (no leading zeros) first, first + 1, ..., first + count - 1
//            'E' varint task count (every task of a group counted): the end; anything
//                after it is an error
//   body     f64 submit, f64 duration, f64 cpus, mem, disk, gpus,
//            varint key ids of user, job, app, qos, queue, group, zigzag varint priority
//   str      varint byte length, then the bytes
namespace steward::traces {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the native trace format is written with the host's little-endian layout");

constexpr char kMagic[] = "STEWARD-TRACE";  // and its terminating NUL
constexpr size_t kMagicSize = sizeof(kMagic);
constexpr uint32_t kVersion = 2;
constexpr size_t kFlushAt = 1 << 20;
// Small enough to stay in the cache and cost few page faults on a short trace; reads are
// this large or larger.
constexpr size_t kBufferSize = 64 << 10;
// The fast decoder runs when this many bytes are buffered: a whole record but for its string
// (tag, 6 doubles, 7 varints of at most 10 bytes, the string's length, a group's 2 varints).
constexpr size_t kFastBytes = 1 + 6 * 8 + 7 * 10 + 10 + 2 * 10;
constexpr uint64_t kMaxString = uint64_t{1} << 30;
constexpr uint64_t kMaxTasks = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

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

void PutString(std::string& out, std::string_view text) {
  PutVarint(out, text.size());
  out.append(text);
}

void PutVector(std::string& out, const ResourceVector& v) {
  PutDouble(out, v.cpus);
  PutDouble(out, v.mem);
  PutDouble(out, v.disk);
  PutDouble(out, v.gpus);
}

bool ValidAmount(double value) { return std::isfinite(value) && value >= 0; }

// Buffered binary input with the format's primitives; every failure names the file and the
// byte offset.
class Input {
 public:
  Input(std::string path, std::FILE* file) : path_(std::move(path)), file_(file) {}
  ~Input() { std::fclose(file_); }

  const std::string& path() const { return path_; }
  uint64_t offset() const { return consumed_ + pos_; }

  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat(path_, ": byte ", offset(), ": ", std::string(what)));
  }

  // The buffered bytes, for the fast decoder; Skip() consumes them.
  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(buffer_.get()) + pos_; }
  size_t available() const { return end_ - pos_; }
  void Skip(size_t n) { pos_ += n; }

  // Reads until `n` bytes are buffered or the file ends; returns how many are buffered.
  absl::StatusOr<size_t> Fill(size_t n) {
    if (end_ - pos_ >= n) return end_ - pos_;
    if (end_ > pos_) std::memmove(buffer_.get(), buffer_.get() + pos_, end_ - pos_);
    consumed_ += pos_;
    end_ -= pos_;
    pos_ = 0;
    if (capacity_ < std::max(n, kBufferSize)) {
      // Not value-initialised: only the bytes read are ever looked at.
      const size_t capacity = std::max(n, kBufferSize);
      std::unique_ptr<char[]> buffer(new char[capacity]);
      if (end_ > 0) std::memcpy(buffer.get(), buffer_.get(), end_);
      buffer_ = std::move(buffer);
      capacity_ = capacity;
    }
    while (end_ < n) {
      const size_t got = std::fread(buffer_.get() + end_, 1, capacity_ - end_, file_);
      if (got == 0) {
        if (std::ferror(file_)) return Error(absl::StrCat("read failed: ", std::strerror(errno)));
        break;
      }
      end_ += got;
    }
    return end_;
  }

  // Makes `n` bytes available; false at a clean end of file before any of them.
  absl::StatusOr<bool> Need(size_t n) {
    absl::StatusOr<size_t> got = Fill(n);
    if (!got.ok()) return got.status();
    if (*got >= n) return true;
    if (*got == 0) return false;
    return Error("unexpected end of file (truncated trace)");
  }
  absl::Status Bytes(void* out, size_t n) {
    if (end_ - pos_ >= n) {  // buffered already: the common case, without a Status to build
      std::memcpy(out, buffer_.get() + pos_, n);
      pos_ += n;
      return absl::OkStatus();
    }
    absl::StatusOr<bool> ok = Need(n);
    if (!ok.ok()) return ok.status();
    if (!*ok) return Error("unexpected end of file (truncated trace)");
    std::memcpy(out, buffer_.get() + pos_, n);
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
    if (size > kMaxString) return Error("string length out of range");
    out->resize(size);
    return size == 0 ? absl::OkStatus() : Bytes(out->data(), size);
  }
  absl::Status Vector(ResourceVector* v) {
    for (double* field : {&v->cpus, &v->mem, &v->disk, &v->gpus}) {
      if (absl::Status s = Double(field); !s.ok()) return s;
      if (!ValidAmount(*field)) return Error("resource amount out of range");
    }
    return absl::OkStatus();
  }

 private:
  std::string path_;
  std::FILE* file_;
  std::unique_ptr<char[]> buffer_;
  size_t capacity_ = 0;
  size_t pos_ = 0;
  size_t end_ = 0;
  uint64_t consumed_ = 0;
};

// Decodes a varint from a buffer known to hold at least 10 bytes; nullptr when malformed.
inline const uint8_t* FastVarint(const uint8_t* p, uint64_t* out) {
  uint64_t byte = *p++;
  if (byte < 0x80) {
    *out = byte;
    return p;
  }
  uint64_t value = byte & 0x7f;
  for (int shift = 7; shift < 64; shift += 7) {
    byte = *p++;
    value |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      *out = value;
      return p;
    }
  }
  return nullptr;
}

inline double FastDouble(const uint8_t* p) {
  double value;
  std::memcpy(&value, p, 8);
  return value;
}

// Assigns only when the contents differ: consecutive tasks mostly share their grouping keys,
// and comparing is cheaper than copying. Correct whatever the caller did to `to`.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline void AssignIfDifferent(std::string& to,
                                                           const std::string& from) {
  const size_t size = from.size();
  if (to.size() != size) {
    to = from;
    return;
  }
  // Most keys are empty or short: compare in line, without a call to memcmp.
  const char* a = to.data();
  const char* b = from.data();
  if (size <= 16) {
    for (size_t i = 0; i < size; ++i) {
      if (a[i] != b[i]) {
        to = from;
        return;
      }
    }
    return;
  }
  if (std::memcmp(a, b, size) != 0) to = from;
}

// to = from, in line for the short strings of group copies (overlapping fixed-size copies
// instead of a call to memcpy).
ABSL_ATTRIBUTE_ALWAYS_INLINE inline void CopyShort(const std::string& from, std::string& to) {
  const size_t size = from.size();
  if (to.size() != size || size > 32) {
    to = from;
    return;
  }
  const char* src = from.data();
  char* dst = to.data();
  if (size >= 16) {
    std::memcpy(dst, src, 16);
    std::memcpy(dst + size - 16, src + size - 16, 16);
  } else if (size >= 8) {
    std::memcpy(dst, src, 8);
    std::memcpy(dst + size - 8, src + size - 8, 8);
  } else if (size >= 4) {
    std::memcpy(dst, src, 4);
    std::memcpy(dst + size - 4, src + size - 4, 4);
  } else {
    for (size_t i = 0; i < size; ++i) dst[i] = src[i];
  }
}

// A T or G record's fields but its strings.
struct Body {
  double submit = 0;
  double duration = 0;
  ResourceVector demand;
  uint64_t keys[6] = {};
  int64_t priority = 0;
};

int64_t Unzigzag(uint64_t zigzag) {
  return static_cast<int64_t>(zigzag >> 1) ^ -static_cast<int64_t>(zigzag & 1);
}

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
      return input_->Error(absl::StrCat("unsupported native trace version ", version,
                                        " (this build reads version ", kVersion,
                                        "; convert the trace again)"));
    }
    uint64_t count = 0;
    if (absl::Status s = input_->Varint(&count); !s.ok()) return s;
    // A damaged count must not reserve much: the file gives the events, or an error.
    machines_.reserve(static_cast<size_t>(std::min<uint64_t>(count, 1 << 16)));
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
    // The copies of a group are most of the tasks of the traces with groups: a short path.
    if (group_left_ > 0 && UnderLimit()) {
      EmitCopy(task);
      return true;
    }
    return NextRecord(task);
  }

  // A T record is a run of one task; a G record, or what Next() left of one, is one run
  // (cut at the limit).
  absl::StatusOr<bool> NextRun(TaskRun* run) override {
    if (!UnderLimit()) return false;
    if (group_left_ > 0) return RestOfGroup(run);
    if (done_) return false;
    Record& record = record_;
    absl::StatusOr<bool> more = ReadRecord(&record);
    if (!more.ok() || !*more) return more;
    ++stats_.lines;
    Apply(record.body, &run->first);
    std::string& id = run->first.trace_id;
    id.assign(record.text);
    if (!record.group) {
      run->count = 1;
      run->prefix = 0;
      run->index = 0;
      Counted();
      return true;
    }
    AppendDecimal(record.first, &id);
    uint64_t take = record.count;
    if (options_.limit > 0) {
      take = std::min(take, static_cast<uint64_t>(options_.limit - stats_.tasks));
    }
    run->count = static_cast<int64_t>(take);
    run->prefix = record.text.size();
    run->index = record.first;
    records_ += take;
    stats_.tasks += static_cast<int64_t>(take);
    if (take < record.count) {
      // Cut at the limit: Next() may still be called, and must find the group's state.
      StartGroup(record);
      group_next_ += take;
      group_left_ -= take;
      SetGroupId();
    }
    return true;
  }

 private:
  // A decoded T or G record. `text` (the trace_id of a T record, the prefix of a G record)
  // points into the input buffer or text_, valid until the next read.
  struct Record {
    Body body;
    std::string_view text;
    bool group = false;
    uint64_t first = 0;  // G only: the first index and the task count
    uint64_t count = 1;
  };

  bool UnderLimit() const { return options_.limit <= 0 || stats_.tasks < options_.limit; }

  static void AppendDecimal(uint64_t value, std::string* to) {
    char digits[24];
    const auto result = std::to_chars(digits, digits + sizeof(digits), value);
    to->append(digits, result.ptr);
  }

  // What Next() (or the limit) left of the group being expanded, as one run (cut at the
  // limit).
  absl::StatusOr<bool> RestOfGroup(TaskRun* run) {
    uint64_t take = group_left_;
    if (options_.limit > 0) {
      take = std::min(take, static_cast<uint64_t>(options_.limit - stats_.tasks));
    }
    Apply(group_, &run->first);
    run->first.trace_id.assign(group_id_);
    run->count = static_cast<int64_t>(take);
    run->prefix = group_prefix_;
    run->index = group_next_;
    group_left_ -= take;
    group_next_ += take;
    records_ += take;
    stats_.tasks += static_cast<int64_t>(take);
    if (group_left_ > 0) SetGroupId();
    return true;
  }

  ABSL_ATTRIBUTE_NOINLINE absl::StatusOr<bool> NextRecord(TaskRecord* task) {
    if (done_ || !UnderLimit()) return false;
    Record& record = record_;
    absl::StatusOr<bool> more = ReadRecord(&record);
    if (!more.ok() || !*more) return more;
    ++stats_.lines;
    if (!record.group) {
      Apply(record.body, task);
      task->trace_id.assign(record.text);
      Counted();
      return true;
    }
    StartGroup(record);
    EmitCopy(task);
    return true;
  }

  // The next T or G record (defining the keys before it); false at the end marker.
  absl::StatusOr<bool> ReadRecord(Record* record) {
    while (true) {
      if (input_->available() < kFastBytes) {
        absl::StatusOr<size_t> buffered = input_->Fill(kFastBytes);
        if (!buffered.ok()) return buffered.status();
      }
      if (input_->available() < kFastBytes) break;
      if (*input_->data() != 'K') {
        if (DecodeFast(record)) return true;
        break;
      }
      // Most traces define a key (a new job) every few records.
      if (!DecodeKeyFast()) break;
    }
    return ReadCarefully(record);
  }

  // Decodes a K record from the buffer (which holds at least kFastBytes); false, having
  // consumed nothing, when its string is not all buffered or its length is malformed.
  bool DecodeKeyFast() {
    const uint8_t* const start = input_->data();
    const uint8_t* const limit = start + input_->available();
    uint64_t size = 0;
    const uint8_t* p = FastVarint(start + 1, &size);
    if (p == nullptr || size > static_cast<uint64_t>(limit - p)) return false;
    keys_.emplace_back(reinterpret_cast<const char*>(p), size);
    input_->Skip(static_cast<size_t>(p - start) + size);
    return true;
  }

  // Sets every field of `task` but trace_id from `body`.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void Apply(const Body& body, TaskRecord* task) const {
    task->submit_time = body.submit;
    task->duration = body.duration;
    task->demand = body.demand;
    task->priority = body.priority;
    AssignIfDifferent(task->user, keys_[body.keys[0]]);
    AssignIfDifferent(task->job, keys_[body.keys[1]]);
    AssignIfDifferent(task->app, keys_[body.keys[2]]);
    AssignIfDifferent(task->qos, keys_[body.keys[3]]);
    AssignIfDifferent(task->queue, keys_[body.keys[4]]);
    AssignIfDifferent(task->group, keys_[body.keys[5]]);
  }

  void Counted() {
    ++records_;
    ++stats_.tasks;
  }

  // Writes the group's next task. Every field is set again (the caller owns `task` between
  // calls and may have changed it); the keys are compared before they are copied.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void EmitCopy(TaskRecord* task) {
    Apply(group_, task);
    CopyShort(group_id_, task->trace_id);
    // Increment the decimal index in place.
    size_t i = group_id_.size();
    while (i > group_prefix_ && group_id_[i - 1] == '9') group_id_[--i] = '0';
    if (i == group_prefix_) {
      group_id_.insert(group_id_.begin() + static_cast<std::ptrdiff_t>(group_prefix_), '1');
    } else {
      ++group_id_[i - 1];
    }
    ++group_next_;
    --group_left_;
    Counted();
  }

  // Checks a group's numbers; empty when they are valid.
  std::string_view CheckGroup(uint64_t first, uint64_t count) const {
    if (count < 2 || count > kMaxTasks - records_) return "group task count out of range";
    if (first > std::numeric_limits<uint64_t>::max() - (count - 1)) {
      return "group index out of range";
    }
    return {};
  }

  // Makes `record` (a G record) the group being expanded; no task is counted yet.
  void StartGroup(const Record& record) {
    group_ = record.body;
    group_prefix_ = record.text.size();
    group_id_.assign(record.text);
    group_next_ = record.first;
    group_left_ = record.count;
    SetGroupId();
  }

  // group_id_ = the prefix followed by group_next_ in decimal.
  void SetGroupId() {
    group_id_.resize(group_prefix_);
    AppendDecimal(group_next_, &group_id_);
  }

  // Decodes a T or G record entirely from the buffer (which holds at least kFastBytes). False,
  // having consumed nothing, for any other record, one longer than the buffer, or any
  // problem: ReadCarefully() then reads it again and reports the error.
  bool DecodeFast(Record* record) {
    const uint8_t* const start = input_->data();
    const uint8_t* const limit = start + input_->available();
    const uint8_t tag = start[0];
    if (tag != 'T' && tag != 'G') return false;
    const uint8_t* p = start + 1;
    Body& body = record->body;
    body.submit = FastDouble(p);
    body.duration = FastDouble(p + 8);
    body.demand.cpus = FastDouble(p + 16);
    body.demand.mem = FastDouble(p + 24);
    body.demand.disk = FastDouble(p + 32);
    body.demand.gpus = FastDouble(p + 40);
    p += 48;
    if (!ValidAmount(body.submit) || !ValidAmount(body.duration) ||
        !ValidAmount(body.demand.cpus) || !ValidAmount(body.demand.mem) ||
        !ValidAmount(body.demand.disk) || !ValidAmount(body.demand.gpus)) {
      return false;
    }
    const uint64_t keys = keys_.size();
    for (uint64_t& id : body.keys) {
      if ((p = FastVarint(p, &id)) == nullptr || id >= keys) return false;
    }
    uint64_t zigzag = 0;
    uint64_t size = 0;
    if ((p = FastVarint(p, &zigzag)) == nullptr || (p = FastVarint(p, &size)) == nullptr) {
      return false;
    }
    body.priority = Unzigzag(zigzag);
    if (size > static_cast<uint64_t>(limit - p)) return false;
    record->text = std::string_view(reinterpret_cast<const char*>(p), size);
    p += size;
    if (tag == 'T') {
      record->group = false;
      record->count = 1;
      input_->Skip(static_cast<size_t>(p - start));
      return true;
    }
    // A group's two varints; 20 bytes may not remain after a long prefix.
    if (limit - p < 20) return false;
    uint64_t first = 0;
    uint64_t count = 0;
    if ((p = FastVarint(p, &first)) == nullptr || (p = FastVarint(p, &count)) == nullptr ||
        !CheckGroup(first, count).empty()) {
      return false;
    }
    record->group = true;
    record->first = first;
    record->count = count;
    input_->Skip(static_cast<size_t>(p - start));
    return true;
  }

  absl::StatusOr<bool> ReadCarefully(Record* record) {
    while (true) {
      uint8_t tag = 0;
      absl::StatusOr<bool> more = input_->Need(1);
      if (!more.ok()) return more.status();
      if (!*more)
        return input_->Error("unexpected end of file before the end marker (truncated trace)");
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
          return input_->Error(
              absl::StrCat("end marker counts ", count, " tasks, file has ", records_));
        }
        absl::StatusOr<bool> trailing = input_->Need(1);
        if (!trailing.ok()) return trailing.status();
        if (*trailing) return input_->Error("data after the end marker");
        done_ = true;
        return false;
      }
      if (tag != 'T' && tag != 'G') {
        return input_->Error(absl::StrCat("unknown record tag ", static_cast<int>(tag)));
      }
      if (absl::Status s = ReadBody(&record->body); !s.ok()) return s;
      if (absl::Status s = input_->String(&text_); !s.ok()) return s;
      record->text = text_;
      if (tag == 'T') {
        record->group = false;
        record->count = 1;
        return true;
      }
      uint64_t first = 0;
      uint64_t count = 0;
      if (absl::Status s = input_->Varint(&first); !s.ok()) return s;
      if (absl::Status s = input_->Varint(&count); !s.ok()) return s;
      if (std::string_view error = CheckGroup(first, count); !error.empty()) {
        return input_->Error(error);
      }
      record->group = true;
      record->first = first;
      record->count = count;
      return true;
    }
  }

  absl::Status ReadBody(Body* body) {
    if (absl::Status s = input_->Double(&body->submit); !s.ok()) return s;
    if (absl::Status s = input_->Double(&body->duration); !s.ok()) return s;
    if (!ValidAmount(body->submit) || !ValidAmount(body->duration)) {
      return input_->Error("task time out of range");
    }
    if (absl::Status s = input_->Vector(&body->demand); !s.ok()) return s;
    for (uint64_t& id : body->keys) {
      if (absl::Status s = input_->Varint(&id); !s.ok()) return s;
      if (id >= keys_.size()) return input_->Error("undefined key id");
    }
    uint64_t zigzag = 0;
    if (absl::Status s = input_->Varint(&zigzag); !s.ok()) return s;
    body->priority = Unzigzag(zigzag);
    return absl::OkStatus();
  }

  std::unique_ptr<Input> input_;
  ReadOptions options_;
  std::vector<MachineEvent> machines_;
  std::vector<std::string> keys_;
  ReadStats stats_;
  uint64_t records_ = 0;  // tasks read, a group's each counted
  bool done_ = false;
  std::string text_;  // the careful path's trace_id or prefix
  // The record being read; a member, so that a read does not initialise one afresh.
  Record record_;
  // The group being expanded: its fields, the next task's trace_id (the prefix, then the
  // index's digits), the prefix's length, the next task's index, and the tasks still to come.
  Body group_;
  std::string group_id_;
  size_t group_prefix_ = 0;
  uint64_t group_next_ = 0;
  uint64_t group_left_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<NativeWriter>> NativeWriter::Create(
    const std::string& path, const std::vector<MachineEvent>& machines) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot create: ", std::strerror(errno)));
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

namespace {

bool SameBits(double a, double b) {
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
}

// True when `a` and `b` agree in every field but trace_id, doubles bit for bit.
bool SameButId(const TaskRecord& a, const TaskRecord& b) {
  return SameBits(a.submit_time, b.submit_time) && SameBits(a.duration, b.duration) &&
         SameBits(a.demand.cpus, b.demand.cpus) && SameBits(a.demand.mem, b.demand.mem) &&
         SameBits(a.demand.disk, b.demand.disk) && SameBits(a.demand.gpus, b.demand.gpus) &&
         a.priority == b.priority && a.user == b.user && a.job == b.job && a.app == b.app &&
         a.qos == b.qos && a.queue == b.queue && a.group == b.group;
}

// Splits `id` into a prefix and a trailing decimal index written without leading zeros (a
// zero before other digits stays in the prefix, so prefix + index gives `id` back). False when
// `id` does not end with such an index or it does not fit 19 digits.
bool SplitIndex(std::string_view id, size_t* prefix, uint64_t* index) {
  size_t digits = id.size();
  while (digits > 0 && id[digits - 1] >= '0' && id[digits - 1] <= '9') --digits;
  while (digits + 1 < id.size() && id[digits] == '0') ++digits;
  if (digits == id.size() || id.size() - digits > 19) return false;
  const auto result = std::from_chars(id.data() + digits, id.data() + id.size(), *index);
  if (result.ec != std::errc() || result.ptr != id.data() + id.size()) return false;
  *prefix = digits;
  return true;
}

// True when `id` is `prefix` followed by the decimal `index`.
bool IsIndexed(std::string_view id, std::string_view prefix, uint64_t index) {
  if (id.size() <= prefix.size() || id.substr(0, prefix.size()) != prefix) return false;
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof(digits), index);
  return id.substr(prefix.size()) ==
         std::string_view(digits, static_cast<size_t>(result.ptr - digits));
}

}  // namespace

void NativeWriter::PutRecord(char tag, const TaskRecord& task) {
  uint64_t ids[6];
  const std::string* keys[6] = {&task.user, &task.job,   &task.app,
                                &task.qos,  &task.queue, &task.group};
  for (int k = 0; k < 6; ++k) ids[k] = KeyId(*keys[k]);
  buffer_.push_back(tag);
  PutDouble(buffer_, task.submit_time);
  PutDouble(buffer_, task.duration);
  PutVector(buffer_, task.demand);
  for (uint64_t id : ids) PutVarint(buffer_, id);
  PutVarint(buffer_, (static_cast<uint64_t>(task.priority) << 1) ^
                         static_cast<uint64_t>(task.priority >> 63));
}

absl::Status NativeWriter::WriteRun() {
  if (run_count_ == 0) return absl::OkStatus();
  if (run_count_ == 1) {
    PutRecord('T', run_);
    PutString(buffer_, run_.trace_id);
  } else {
    PutRecord('G', run_);
    PutString(buffer_, std::string_view(run_.trace_id).substr(0, run_prefix_));
    PutVarint(buffer_, run_first_);
    PutVarint(buffer_, run_count_);
  }
  run_count_ = 0;
  return buffer_.size() >= kFlushAt ? Flush() : absl::OkStatus();
}

absl::Status NativeWriter::Write(const TaskRecord& task) {
  if (file_ == nullptr) return absl::FailedPreconditionError("native trace already closed");
  ++tasks_;
  if (run_count_ > 0 && run_indexed_ && run_first_ + run_count_ != 0 &&
      IsIndexed(task.trace_id, std::string_view(run_.trace_id).substr(0, run_prefix_),
                run_first_ + run_count_) &&
      SameButId(task, run_)) {
    ++run_count_;
    return absl::OkStatus();
  }
  if (absl::Status s = WriteRun(); !s.ok()) return s;
  run_ = task;
  run_count_ = 1;
  run_indexed_ = SplitIndex(run_.trace_id, &run_prefix_, &run_first_);
  return absl::OkStatus();
}

absl::Status NativeWriter::Write(const TaskRun& run) {
  if (run.count == 1) return Write(run.first);
  if (file_ == nullptr) return absl::FailedPreconditionError("native trace already closed");
  const uint64_t count = static_cast<uint64_t>(run.count);
  if (run.count < 1 || count > kMaxTasks - static_cast<uint64_t>(tasks_) ||
      run.prefix > run.first.trace_id.size() ||
      run.index > std::numeric_limits<uint64_t>::max() - (count - 1) ||
      !IsIndexed(run.first.trace_id, std::string_view(run.first.trace_id).substr(0, run.prefix),
                 run.index)) {
    return absl::InvalidArgumentError(absl::StrCat("task run of ", run.count, " from '",
                                                   run.first.trace_id, "' is not a valid run"));
  }
  tasks_ += run.count;
  // The run continues the pending one: the same prefix, the next index, the same fields.
  if (run_count_ > 0 && run_indexed_ && run_prefix_ == run.prefix &&
      run_first_ + run_count_ == run.index && run_first_ + run_count_ != 0 &&
      std::string_view(run_.trace_id).substr(0, run_prefix_) ==
          std::string_view(run.first.trace_id).substr(0, run.prefix) &&
      SameButId(run.first, run_)) {
    run_count_ += count;
    return absl::OkStatus();
  }
  if (absl::Status s = WriteRun(); !s.ok()) return s;
  run_ = run.first;
  run_count_ = count;
  run_indexed_ = true;
  run_prefix_ = run.prefix;
  run_first_ = run.index;
  return absl::OkStatus();
}

absl::Status NativeWriter::Close() {
  if (file_ == nullptr) return absl::OkStatus();
  absl::Status status = WriteRun();
  buffer_.push_back('E');
  PutVarint(buffer_, static_cast<uint64_t>(tasks_));
  if (status.ok()) status = Flush();
  if (std::fclose(file_) != 0 && status.ok()) {
    status = absl::DataLossError(absl::StrCat(path_, ": close failed: ", std::strerror(errno)));
  }
  file_ = nullptr;
  return status;
}

absl::Status ConvertToNative(TraceReader& reader, const std::string& path) {
  absl::StatusOr<std::unique_ptr<NativeWriter>> writer =
      NativeWriter::Create(path, reader.machines());
  if (!writer.ok()) return writer.status();
  TaskRun run;
  while (true) {
    absl::StatusOr<bool> more = reader.NextRun(&run);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (absl::Status s = (*writer)->Write(run); !s.ok()) return s;
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
    return absl::InvalidArgumentError(
        absl::StrCat(paths[0], ": cannot open: ", std::strerror(errno)));
  }
  auto reader = std::make_unique<NativeReader>(std::make_unique<Input>(paths[0], file), options);
  if (absl::Status s = reader->ReadHeader(); !s.ok()) return s;
  return std::unique_ptr<TraceReader>(std::move(reader));
}

}  // namespace internal
}  // namespace steward::traces
