// The agent's checkpointed dynamic reservations: a list of wire resources that RESERVE events
// add to and UNRESERVE events take from.
//
// Two resources are "the same" when everything but their amount matches (name, type, role,
// reservations with principal and labels, disk info, ...); amounts of the same resource are
// merged. Scalars are added and subtracted as exact milli-units (rounded to nearest), ranges
// and sets as unions and differences. A resource whose amount drops to zero is removed.
//
// Thread safety: none (a value type).
#ifndef STEWARD_AGENT_INTERNAL_RESERVATIONS_H_
#define STEWARD_AGENT_INTERNAL_RESERVATIONS_H_

#include "absl/status/status.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "proto/mesos/v1/mesos.pb.h"

namespace steward::agent::internal {

using WireResources = google::protobuf::RepeatedPtrField<mesos::v1::Resource>;

// InvalidArgument naming the problem unless `resource` is a dynamically reserved resource
// with a value matching its type (a finite, positive scalar; non-inverted ranges; a
// non-empty set).
absl::Status ValidateReservation(const mesos::v1::Resource& resource);

// Adds every resource of `delta` to `*held`. All of `delta` is validated first; on error
// `*held` is unchanged.
absl::Status AddReservations(const WireResources& delta, WireResources* held);

// Removes every resource of `delta` from `*held`. NotFound if a resource is not held,
// FailedPrecondition if less of it is held than asked; `*held` is unchanged on any error.
absl::Status SubtractReservations(const WireResources& delta, WireResources* held);

}  // namespace steward::agent::internal

#endif  // STEWARD_AGENT_INTERNAL_RESERVATIONS_H_
