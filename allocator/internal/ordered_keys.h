// OrderedKeys: the ordered set behind the engine's incremental DRF order.
//
// The order is read far more often than it changes, and a change is nearly always a re-key:
// one client's share moved, so its key is erased and its successor inserted. Most orders are
// small (a few roles, or a role's few frameworks): there a sorted vector wins, since a re-key
// shifts only the entries between the old and the new position, with no node bookkeeping. A
// role with many frameworks (DeclineOffers has a thousand in one role) would make that shift
// linear in the set, so above kFlatLimit entries the keys move into a B-tree, where a re-key
// is logarithmic; they move back below kFlatLimit / 2 (the gap keeps a set that hovers around
// the limit from moving back and forth).
//
// In flat mode the live entries are flat_[head_, end): the engine's commonest re-key moves the
// first client (the one just offered an agent) to the back (its share now the largest), and
// with a movable front that is one step of head_ and an append instead of shifting every
// other entry down. The dead prefix is dropped once it outgrows the live entries, so that
// costs one move per entry per removal, amortised.
//
// Keys must be totally ordered by operator< and distinct. erase() and Rekey() take a key that
// is present. Iteration never sees a change: the engine changes an order only between walks.
#ifndef STEWARD_ALLOCATOR_INTERNAL_ORDERED_KEYS_H_
#define STEWARD_ALLOCATOR_INTERNAL_ORDERED_KEYS_H_

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <vector>

#include "absl/container/btree_set.h"

namespace steward::allocator::internal {

template <typename Key>
class OrderedKeys {
 public:
  static constexpr size_t kFlatLimit = 128;

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Key;
    using difference_type = std::ptrdiff_t;
    using pointer = const Key*;
    using reference = const Key&;

    const_iterator() = default;
    reference operator*() const { return flat_ != nullptr ? *flat_ : *tree_; }
    pointer operator->() const { return &**this; }
    const_iterator& operator++() {
      if (flat_ != nullptr) {
        ++flat_;
      } else {
        ++tree_;
      }
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator before = *this;
      ++*this;
      return before;
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) {
      return a.flat_ == b.flat_ && (a.flat_ != nullptr || a.tree_ == b.tree_);
    }

   private:
    friend class OrderedKeys;
    explicit const_iterator(const Key* flat) : flat_(flat) {}
    explicit const_iterator(typename absl::btree_set<Key>::const_iterator tree) : tree_(tree) {}
    const Key* flat_ = nullptr;  // null in tree mode
    typename absl::btree_set<Key>::const_iterator tree_;
  };

  size_t size() const { return tree_mode_ ? tree_.size() : flat_.size() - head_; }
  bool empty() const { return size() == 0; }
  const Key& front() const { return tree_mode_ ? *tree_.begin() : flat_[head_]; }

  // In flat mode an empty set iterates over [data, data): data() may be null for an empty
  // vector, and a null flat pointer means tree mode, so the empty flat case uses a sentinel.
  const_iterator begin() const {
    if (tree_mode_) return const_iterator(tree_.begin());
    return const_iterator(empty() ? &sentinel_ : flat_.data() + head_);
  }
  const_iterator end() const {
    if (tree_mode_) return const_iterator(tree_.end());
    return const_iterator(empty() ? &sentinel_ : flat_.data() + flat_.size());
  }

  void clear() {
    flat_.clear();
    head_ = 0;
    tree_.clear();
    tree_mode_ = false;
  }

  void insert(const Key& key) {
    if (tree_mode_) {
      tree_.insert(key);
      return;
    }
    flat_.insert(std::lower_bound(flat_.begin() + head_, flat_.end(), key), key);
    if (size() > kFlatLimit) {
      tree_.insert(flat_.begin() + head_, flat_.end());
      flat_.clear();
      head_ = 0;
      tree_mode_ = true;
    }
  }

  void erase(const Key& key) {
    if (!tree_mode_) {
      auto it = std::lower_bound(flat_.begin() + head_, flat_.end(), key);
      if (it == flat_.end() || key < *it) return;
      if (it == flat_.begin() + head_) {
        DropFront();
      } else {
        flat_.erase(it);
      }
      return;
    }
    tree_.erase(key);
    if (tree_.size() < kFlatLimit / 2) {
      flat_.assign(tree_.begin(), tree_.end());
      tree_.clear();
      tree_mode_ = false;
    }
  }

  // Replaces `old_key` (present) by `new_key` (absent).
  void Rekey(const Key& old_key, const Key& new_key) {
    if (tree_mode_) {
      tree_.erase(old_key);
      tree_.insert(new_key);
      return;
    }
    // The re-keyed client is usually near the front (a walk offers to the first clients in
    // order and stops), so its old place is found by galloping from the front.
    const size_t n = size();
    Key* first = flat_.data() + head_;
    Key* last = first + n;
    size_t lo = 0;
    size_t hi = 1;
    while (hi < n && first[hi - 1] < old_key) {
      lo = hi;
      hi *= 2;
    }
    Key* at = std::lower_bound(first + lo, first + std::min(hi, n), old_key);
    if (at == last || old_key < *at) {  // absent: plain insert
      insert(new_key);
      return;
    }
    if (old_key < new_key) {
      // Its new place `to` is usually at or near the back (the client's share only grew, and
      // a walk's first client is the one whose share was the least): gallop from the back,
      // which settles the commonest case, a new last key, in two comparisons instead of a
      // binary search's mispredicted branches.
      Key* bound = last;
      std::ptrdiff_t step = 1;
      while (bound - (at + 1) > step && new_key < *(bound - step)) {
        bound -= step;
        step *= 2;
      }
      Key* to = std::lower_bound(bound - (at + 1) > step ? bound - step : at + 1, bound, new_key);
      // Entries in (at, to) are below new_key. Either shift them down one place, or drop
      // `at` by moving the entries before it (the front moves up) and open a place at `to`
      // by moving the entries from `to` on up: whichever moves fewer.
      if ((at - first) + (last - to) < to - at - 1) {
        const size_t to_index = static_cast<size_t>(to - flat_.data());
        std::move_backward(first, at, at + 1);
        ++head_;
        flat_.push_back(new_key);  // may reallocate: indexes from here on
        std::move_backward(flat_.begin() + static_cast<std::ptrdiff_t>(to_index), flat_.end() - 1,
                           flat_.end());
        flat_[to_index] = new_key;
        MaybeCompact();
        return;
      }
      std::move(at + 1, to, at);
      *(to - 1) = new_key;
    } else {
      // Entries in [to, at) are above new_key: shift them up one place.
      Key* to = std::lower_bound(first, at, new_key);
      std::move_backward(to, at, at + 1);
      *to = new_key;
    }
  }

 private:
  void DropFront() {
    ++head_;
    MaybeCompact();
  }
  // Drops the dead prefix once it is at least as long as the live entries (and not tiny).
  void MaybeCompact() {
    if (head_ < 16 || head_ < size()) return;
    flat_.erase(flat_.begin(), flat_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }

  bool tree_mode_ = false;
  std::vector<Key> flat_;
  size_t head_ = 0;  // flat mode: flat_[0, head_) are dead
  absl::btree_set<Key> tree_;
  Key sentinel_{};
};

}  // namespace steward::allocator::internal

#endif  // STEWARD_ALLOCATOR_INTERNAL_ORDERED_KEYS_H_
