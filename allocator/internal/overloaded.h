// Overloaded{lambda...}: one visitor for std::visit built from several lambdas, each handling
// the alternatives its parameter accepts.
#ifndef STEWARD_ALLOCATOR_INTERNAL_OVERLOADED_H_
#define STEWARD_ALLOCATOR_INTERNAL_OVERLOADED_H_

namespace steward::allocator::internal {

template <typename... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <typename... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace steward::allocator::internal

#endif  // STEWARD_ALLOCATOR_INTERNAL_OVERLOADED_H_
