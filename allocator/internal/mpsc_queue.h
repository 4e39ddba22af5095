// MpscQueue<T>: an unbounded, lock-free multi-producer single-consumer FIFO (Dmitry Vyukov's
// intrusive MPSC node queue, with a sentinel node), written for the allocator's event intake.
//
// WHY THIS QUEUE
//   Producers are the master's network threads and sweep workers; they must never block and
//   never take a mutex. Here linking a node in is one atomic exchange plus one store, with no
//   loop and no CAS retry, so that step is wait-free whatever the other producers do (taking
//   the node from the pool is one CAS, see NODE POOL). The alternative, a bounded ring with
//   per-slot sequence numbers, needs no nodes but must either reject or spin when the ring is
//   full; rejecting a "recover" or "remove agent" would lose state and spinning is blocking,
//   so the unbounded queue fits better.
//
// NODE POOL
//   A `new` per push and a `delete` on the consumer thread cost more than the queue itself
//   (in bench/intake_bench.cc's first runs, 1.3x to 2.7x a mutex-protected deque's time per
//   submit with one producer) and can hide a lock: glibc may return a chunk freed by another
//   thread to the allocating thread's arena under that arena's mutex. So nodes are recycled
//   through a pool: a Treiber stack of free nodes with a tagged head (tag << 32 | index),
//   popped by producers (one CAS; retried only when another producer took a node at the same
//   moment, so a push is lock-free rather than wait-free) and pushed back by the consumer once
//   a node is unlinked.
//   The pool starts empty and grows by chunks of kChunkNodes nodes: a producer that finds the
//   free list empty allocates a chunk. After warm-up no push allocates: the pool ends up as
//   large as the largest backlog and stays so until the queue is destroyed. Past
//   `max_chunks` chunks a push falls back to one `new` per node, which the consumer deletes:
//   the queue stays unbounded.
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
//   (B) -> (C) publishes the node's value to the consumer. The free list's CAS are release
//   (consumer, after destroying the old value) and acquire (producer, before constructing the
//   new one), so a recycled node's old and new values never overlap. (A) is acq_rel because the
//   next producer writes `node->next` through its own exchange result: its acquire on `back_` reads
//   our release, so our initialising store of `next` happens before its link store (no race).
//   The consumer's back_.load(acquire) in the empty check pairs with (A) the same way when it
//   re-pushes the sentinel.
//
// THREADS
//   Push: any number of threads at once. TryPop, the destructor: one thread at a time (the
//   consumer), never concurrently with each other. The destructor must not run while pushes
//   are in flight.
#ifndef STEWARD_ALLOCATOR_INTERNAL_MPSC_QUEUE_H_
#define STEWARD_ALLOCATOR_INTERNAL_MPSC_QUEUE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

namespace steward::allocator::internal {

template <typename T>
class MpscQueue {
 public:
  static constexpr uint32_t kChunkNodes = 1024;

  // The pool grows by chunks of kChunkNodes nodes up to `max_chunks` chunks (see NODE POOL);
  // past that, nodes are allocated one by one.
  explicit MpscQueue(uint32_t max_chunks = 4096)
      : max_chunks_(max_chunks),
        chunks_(new std::atomic<Node*>[max_chunks == 0 ? 1 : max_chunks]()),
        back_(&sentinel_),
        front_(&sentinel_) {}
  ~MpscQueue() {
    T discarded;
    while (TryPop(&discarded)) {
    }
    const uint32_t chunks = std::min(chunk_count_.load(std::memory_order_acquire), max_chunks_);
    for (uint32_t c = 0; c < chunks; ++c) delete[] chunks_[c].load(std::memory_order_acquire);
  }
  MpscQueue(const MpscQueue&) = delete;
  MpscQueue& operator=(const MpscQueue&) = delete;

  // Any thread. Never blocks and takes no lock (apart from the process allocator when the
  // node pool is exhausted).
  void Push(T value) {
    Node* node = AllocateNode();
    node->value.emplace(std::move(value));
    PushNode(node);
  }

  // Consumer only. Moves the oldest ready value into *out and returns true; false when the
  // queue is empty or its next value is not linked yet (see THE ONE WINDOW).
  bool TryPop(T* out) {
    Node* front = front_;
    Node* next = front->next.load(std::memory_order_acquire);
    if (front == &sentinel_) {
      if (next == nullptr) return false;
      front_ = next;  // skip the sentinel
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
    // Re-insert the sentinel behind `front` so that `front` gets a successor and can be unlinked.
    PushNode(&sentinel_);
    next = front->next.load(std::memory_order_acquire);
    // A producer slipped in before the sentinel; its link is still on the way.
    if (next == nullptr) return false;
    front_ = next;
    return Take(front, out);
  }

 private:
  struct Node {
    std::atomic<Node*> next{nullptr};
    std::optional<T> value;              // empty in the sentinel and in free pool nodes
    uint32_t pool_index = 0;             // 1-based pool slot, 0 for the sentinel and heap nodes
    std::atomic<uint32_t> next_free{0};  // free list link (pool_index of the next), 0 = end
  };

  // The free list head packs (tag << 32 | pool_index); the tag changes on every update, so a
  // producer whose CAS raced with a pop and a push of the same node fails instead of
  // installing a stale link (the ABA problem of a Treiber stack; a 32-bit tag would have to
  // wrap around inside one CAS window to fool it).
  static uint64_t Pack(uint64_t tag, uint32_t index) { return tag << 32 | index; }

  // Pool slot `index` (1-based). The chunk pointer was stored before any of its nodes entered
  // the free list, and whoever got `index` from the list acquired that.
  Node* NodeAt(uint32_t index) const {
    const uint32_t slot = index - 1;
    return &chunks_[slot / kChunkNodes].load(std::memory_order_acquire)[slot % kChunkNodes];
  }

  Node* AllocateNode() {
    uint64_t head = free_head_.load(std::memory_order_acquire);
    for (;;) {
      const uint32_t index = static_cast<uint32_t>(head);
      if (index == 0) return Grow();
      Node* node = NodeAt(index);
      // Relaxed: if the node was taken meanwhile this value may be stale, and then the CAS
      // fails on the tag. acquire on success pairs with the consumer's release in FreeNode:
      // the consumer's reset of `value` happens before we construct into it.
      const uint32_t next = node->next_free.load(std::memory_order_relaxed);
      if (free_head_.compare_exchange_weak(head, Pack((head >> 32) + 1, next),
                                           std::memory_order_acquire, std::memory_order_acquire)) {
        return node;
      }
    }
  }

  // The free list is empty: add a chunk, keep its first node and push the others onto the free
  // list in one CAS. Past max_chunks_, a heap node the consumer deletes after use.
  Node* Grow() {
    if (chunk_count_.load(std::memory_order_relaxed) >= max_chunks_) return new Node;
    const uint32_t chunk = chunk_count_.fetch_add(1, std::memory_order_relaxed);
    if (chunk >= max_chunks_) return new Node;
    Node* nodes = new Node[kChunkNodes];
    const uint32_t base = chunk * kChunkNodes + 1;
    for (uint32_t i = 0; i < kChunkNodes; ++i) {
      nodes[i].pool_index = base + i;
      if (i + 1 < kChunkNodes) nodes[i].next_free.store(base + i + 1, std::memory_order_relaxed);
    }
    chunks_[chunk].store(nodes, std::memory_order_release);
    if (kChunkNodes > 1) {
      Node* last = &nodes[kChunkNodes - 1];
      uint64_t head = free_head_.load(std::memory_order_relaxed);
      do {
        last->next_free.store(static_cast<uint32_t>(head), std::memory_order_relaxed);
      } while (!free_head_.compare_exchange_weak(head, Pack((head >> 32) + 1, base + 1),
                                                 std::memory_order_release,
                                                 std::memory_order_relaxed));
    }
    return &nodes[0];
  }

  // Consumer only.
  void FreeNode(Node* node) {
    node->value.reset();
    if (node->pool_index == 0) {
      delete node;
      return;
    }
    uint64_t head = free_head_.load(std::memory_order_relaxed);
    do {
      node->next_free.store(static_cast<uint32_t>(head), std::memory_order_relaxed);
    } while (!free_head_.compare_exchange_weak(head, Pack((head >> 32) + 1, node->pool_index),
                                               std::memory_order_release,
                                               std::memory_order_relaxed));
  }

  void PushNode(Node* node) {
    node->next.store(nullptr, std::memory_order_relaxed);
    Node* prev = back_.exchange(node, std::memory_order_acq_rel);
    prev->next.store(node, std::memory_order_release);
  }

  // `node` is unlinked: its successor has been seen, which is the last write any producer
  // makes to it, so nobody references it any more.
  bool Take(Node* node, T* out) {
    *out = std::move(*node->value);
    FreeNode(node);
    return true;
  }

  const uint32_t max_chunks_;
  // chunks_[c] holds pool slots c * kChunkNodes + 1 ...; set once, freed with the queue.
  std::unique_ptr<std::atomic<Node*>[]> chunks_;
  std::atomic<uint32_t> chunk_count_{0};
  // Free pool nodes; producers pop (and push whole new chunks), the consumer pushes.
  alignas(64) std::atomic<uint64_t> free_head_{0};
  Node sentinel_;
  // Producers' end. Alone on its cache line: every push writes it.
  alignas(64) std::atomic<Node*> back_;
  // Consumer's end, private to the consumer.
  alignas(64) Node* front_;
};

}  // namespace steward::allocator::internal

#endif  // STEWARD_ALLOCATOR_INTERNAL_MPSC_QUEUE_H_
