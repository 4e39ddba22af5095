// HazardCell<T>: one published pointer to an immutable T, replaced by a single writer and read
// by any number of readers, with safe reclamation by hazard pointers (Michael, 2004).
//
// WHY HAZARD POINTERS (and not std::atomic<std::shared_ptr>, nor epochs)
//   - GCC 12's std::atomic<std::shared_ptr<T>> keeps a lock bit in the control-block pointer:
//     load(), store() and exchange() all spin on it (is_always_lock_free is false;
//     bits/shared_ptr_atomic.h, _Sp_atomic::_Atomic_count::lock). A reader preempted inside
//     load() would stall the writer's store: the loop would wait for a reader.
//   - Epoch-based reclamation needs every reader to leave its epoch before anything retired
//     after it can be freed, so one stalled reader holds back every snapshot retired since.
//     With hazard pointers a stalled reader pins exactly the one snapshot it holds.
//
// PROTOCOL
//   Reader (Acquire): claim a hazard record (a CAS on its `active` flag; records are never
//   freed before the cell, new ones are pushed onto a lock-free list when all are busy), then
//       p = current_.load();  loop { record.hazard.store(p, seq_cst);           (R1)
//                                    q = current_.load(seq_cst);                 (R2)
//                                    if (q == p) break; p = q; }
//   Release: record.hazard.store(nullptr, release); record.active.store(false, release).
//   Writer (Publish): old = current_.exchange(next, seq_cst)                      (W1)
//   then, on every Publish and Reclaim: h = each record.hazard.load(seq_cst)      (W2)
//   and delete every retired pointer not among the h.
//   Why it is safe: (R1), (R2), (W1), (W2) are seq_cst, so they are totally ordered. If the
//   reader validated p at (R2), then (R2) precedes the (W1) that replaced p, and so (R1)
//   precedes every (W2) of scans after that retirement: those scans see p (or a later value
//   this reader stored after it stopped using p) and keep p. The writer frees p only after a
//   scan that read the reader's later store (the release in Release or a later R1), which
//   synchronizes-with it, so the reader's reads of *p happen before the delete.
//   Readers retry only when the writer published between (R1)'s load and (R2): lock-free, and
//   the writer publishes once per cycle, so in practice at most one retry.
//   The writer never waits: a retired pointer still held stays on the retired list and is
//   freed by a later Publish or Reclaim (at most one per live reader stays pending).
//
// THREADS
//   Acquire and the Guard: any thread. Publish, Reclaim, pending(): the one writer thread.
//   The destructor frees everything; no Guard may outlive the cell.
#ifndef STEWARD_ALLOCATOR_INTERNAL_HAZARD_CELL_H_
#define STEWARD_ALLOCATOR_INTERNAL_HAZARD_CELL_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace steward::allocator::internal {

template <typename T>
class HazardCell {
  struct Record;

 public:
  // A reader's hold on the snapshot current at Acquire time. Move-only; the pointee stays
  // valid and unchanged until the guard is destroyed (or reset).
  class Guard {
   public:
    Guard() = default;
    Guard(Guard&& other) noexcept
        : record_(std::exchange(other.record_, nullptr)),
          value_(std::exchange(other.value_, nullptr)) {}
    Guard& operator=(Guard&& other) noexcept {
      if (this != &other) {
        reset();
        record_ = std::exchange(other.record_, nullptr);
        value_ = std::exchange(other.value_, nullptr);
      }
      return *this;
    }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    ~Guard() { reset(); }

    const T* get() const { return value_; }
    const T& operator*() const { return *value_; }
    const T* operator->() const { return value_; }
    explicit operator bool() const { return value_ != nullptr; }

    void reset() {
      if (record_ == nullptr) return;
      record_->hazard.store(nullptr, std::memory_order_release);
      record_->active.store(false, std::memory_order_release);
      record_ = nullptr;
      value_ = nullptr;
    }

   private:
    friend class HazardCell;
    Guard(Record* record, const T* value) : record_(record), value_(value) {}
    Record* record_ = nullptr;
    const T* value_ = nullptr;
  };

  HazardCell() = default;
  explicit HazardCell(std::unique_ptr<const T> initial) : current_(initial.release()) {}
  HazardCell(const HazardCell&) = delete;
  HazardCell& operator=(const HazardCell&) = delete;
  ~HazardCell() {
    delete current_.load(std::memory_order_acquire);
    for (const T* retired : retired_) delete retired;
    Record* record = records_.load(std::memory_order_acquire);
    while (record != nullptr) {
      Record* next = record->next;
      delete record;
      record = next;
    }
  }

  // Any thread; lock-free, never blocks the writer. The guard holds nullptr if nothing was
  // ever published.
  Guard Acquire() const {
    Record* record = ClaimRecord();
    const T* value = current_.load(std::memory_order_acquire);
    for (;;) {
      record->hazard.store(value, std::memory_order_seq_cst);         // (R1)
      const T* validated = current_.load(std::memory_order_seq_cst);  // (R2)
      if (validated == value) break;
      value = validated;
    }
    return Guard(record, value);
  }

  // Writer only. Makes `next` current, retires the previous value and frees whatever retired
  // value no reader holds. Returns how many were freed.
  size_t Publish(std::unique_ptr<const T> next) {
    const T* old = current_.exchange(next.release(), std::memory_order_seq_cst);  // (W1)
    if (old != nullptr) retired_.push_back(old);
    return Reclaim();
  }

  // Writer only. Frees every retired value no reader holds; never waits. Returns the count.
  size_t Reclaim() {
    if (retired_.empty()) return 0;
    hazards_.clear();
    for (Record* record = records_.load(std::memory_order_acquire); record != nullptr;
         record = record->next) {
      const T* held = record->hazard.load(std::memory_order_seq_cst);  // (W2)
      if (held != nullptr) hazards_.push_back(held);
    }
    std::sort(hazards_.begin(), hazards_.end());
    size_t kept = 0;
    size_t freed = 0;
    for (const T* retired : retired_) {
      if (std::binary_search(hazards_.begin(), hazards_.end(), retired)) {
        retired_[kept++] = retired;
      } else {
        delete retired;
        ++freed;
      }
    }
    retired_.resize(kept);
    return freed;
  }

  // Writer only: retired values still held by readers.
  size_t pending() const { return retired_.size(); }

 private:
  // One per concurrently reading thread (high-water mark). Cache-line sized so that readers
  // on different records do not share a line.
  struct alignas(64) Record {
    std::atomic<const T*> hazard{nullptr};
    std::atomic<bool> active{false};
    Record* next = nullptr;  // set before the record is published, never changed
  };

  Record* ClaimRecord() const {
    Record* head = records_.load(std::memory_order_acquire);
    for (Record* record = head; record != nullptr; record = record->next) {
      if (record->active.load(std::memory_order_relaxed)) continue;
      bool expected = false;
      if (record->active.compare_exchange_strong(expected, true, std::memory_order_acquire,
                                                 std::memory_order_relaxed)) {
        return record;
      }
    }
    // Every record is busy: add one. Lock-free push; a failed CAS only means another reader
    // added a record first, and ours still goes in.
    auto* record = new Record;
    record->active.store(true, std::memory_order_relaxed);
    record->next = head;
    while (!records_.compare_exchange_weak(record->next, record, std::memory_order_release,
                                           std::memory_order_acquire)) {
    }
    return record;
  }

  alignas(64) std::atomic<const T*> current_{nullptr};
  mutable std::atomic<Record*> records_{nullptr};
  // Writer-private.
  std::vector<const T*> retired_;
  std::vector<const T*> hazards_;
};

}  // namespace steward::allocator::internal

#endif  // STEWARD_ALLOCATOR_INTERNAL_HAZARD_CELL_H_
