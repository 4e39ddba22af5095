// MpscQueue<T>: an unbounded, lock-free multi-producer single-consumer FIFO (Dmitry Vyukov's
// intrusive MPSC node queue, with a stub node), written for the allocator's event intake.
//
// WHY THIS QUEUE
//   Producers are the master's network threads and sweep workers; they must never block and
//   never take a mutex. Here a push is one atomic exchange plus one store, with no loop and no
//   CAS retry, so it is wait-free whatever the other producers do. The alternative, a bounded
//   ring with per-slot sequence numbers, avoids the per-event node allocation but must either
//   reject or spin when the ring is full; allocator events carry strings and resource vectors
//   that allocate anyway, and rejecting a "recover" or "remove agent" would lose state, so the
//   unbounded queue fits better. The node is allocated with the event (one `new` per push: the
//   process allocator's fast path is per-thread, but it is the one place a producer can wait).
//
// ORDER
//   The exchange on `back_` puts all pushes in one total order; pops return them in that
//   order. So each producer's events come out in the order it pushed them (per-producer FIFO),
//   and events of different producers interleave in exchange order.
//
// THE ONE WINDOW
//   Between a producer's exchange and its link store, the chain is broken at that node: the
//   consumer sees an empty `next` although `back_` has moved on. TryPop then returns false
//   ("nothing ready yet") instead of waiting; the events behind the preempted producer show up
//   at a later TryPop. The consumer is lock-free but, in that window, not linearizable; no
//   event is lost, reordered or delivered twice.
//
// MEMORY ORDER
//   push:  node->next = nullptr (plain, before publication)
//          prev = back_.exchange(node, acq_rel)      (A)
//          prev->next.store(node, release)          (B)
//   pop:   front->next.load(acquire)                (C)
//   (B) -> (C) publishes the node's value to the consumer. (A) is acq_rel because the next
//   producer writes `node->next` through its own exchange result: its acquire on `back_` reads
//   our release, so our initialising store of `next` happens before its link store (no race).
//   The consumer's back_.load(acquire) in the empty check pairs with (A) the same way when it
//   re-pushes the stub.
//
// THREADS
//   Push: any number of threads at once. TryPop, the destructor: one thread at a time (the
//   consumer), never concurrently with each other. The destructor must not run while pushes
//   are in flight.
#ifndef STEWARD_ALLOCATOR_INTERNAL_MPSC_QUEUE_H_
#define STEWARD_ALLOCATOR_INTERNAL_MPSC_QUEUE_H_

#include <atomic>
#include <optional>
#include <utility>

namespace steward::allocator::internal {

template <typename T>
class MpscQueue {
 public:
  MpscQueue() : back_(&stub_), front_(&stub_) {}
  ~MpscQueue() {
    T discarded;
    while (TryPop(&discarded)) {
    }
  }
  MpscQueue(const MpscQueue&) = delete;
  MpscQueue& operator=(const MpscQueue&) = delete;

  // Any thread. Never blocks (apart from the allocation of the node).
  void Push(T value) { PushNode(new Node(std::move(value))); }

  // Consumer only. Moves the oldest ready value into *out and returns true; false when the
  // queue is empty or its next value is not linked yet (see THE ONE WINDOW).
  bool TryPop(T* out) {
    Node* front = front_;
    Node* next = front->next.load(std::memory_order_acquire);
    if (front == &stub_) {
      if (next == nullptr) return false;
      front_ = next;  // skip the stub
      front = next;
      next = next->next.load(std::memory_order_acquire);
    }
    if (next != nullptr) {
      front_ = next;
      return Take(front, out);
    }
    // `front` is the last linked node. If a producer has already exchanged past it, its link
    // is on the way: report "not ready" rather than wait.
    if (front != back_.load(std::memory_order_acquire)) return false;
    // Re-insert the stub behind `front` so that `front` gets a successor and can be unlinked.
    PushNode(&stub_);
    next = front->next.load(std::memory_order_acquire);
    if (next == nullptr) return false;  // a producer slipped in before the stub; link pending
    front_ = next;
    return Take(front, out);
  }

 private:
  struct Node {
    Node() = default;
    explicit Node(T v) : value(std::move(v)) {}
    std::atomic<Node*> next{nullptr};
    std::optional<T> value;  // empty only in the stub
  };

  void PushNode(Node* node) {
    node->next.store(nullptr, std::memory_order_relaxed);
    Node* prev = back_.exchange(node, std::memory_order_acq_rel);
    prev->next.store(node, std::memory_order_release);
  }

  // `node` is unlinked: its successor has been seen, which is the last write any producer
  // makes to it, so nobody references it any more.
  static bool Take(Node* node, T* out) {
    *out = std::move(*node->value);
    delete node;
    return true;
  }

  Node stub_;
  // Producers' end. Alone on its cache line: every push writes it.
  alignas(64) std::atomic<Node*> back_;
  // Consumer's end, private to the consumer.
  alignas(64) Node* front_;
};

}  // namespace steward::allocator::internal

#endif  // STEWARD_ALLOCATOR_INTERNAL_MPSC_QUEUE_H_
