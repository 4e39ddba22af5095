// Conversions between Mesos's resource representations and the allocator's `Resources`.
//
// The daemons speak `mesos.v1.Resource` on the wire and keep amounts in
// `steward::allocator::Resources` (exact fixed point) everywhere else. A wire resource maps to
// one entry: name, kind (SCALAR, RANGES or SET; TEXT is refused), and its reservation role,
// which is the role of the last (most refined) element of `reservations`, else the legacy
// `role` field unless it is "*", else unreserved. Persistent volumes, disk sources, resource
// providers and shared resources are not supported and are refused with a message naming the
// resource; `allocation_info` is ignored on input (the master sets it on offers).
#ifndef STEWARD_COMMON_MESOS_RESOURCES_H_
#define STEWARD_COMMON_MESOS_RESOURCES_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "allocator/resources.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "proto/mesos/v1/mesos.pb.h"

namespace steward::common {

using ResourceList = google::protobuf::RepeatedPtrField<mesos::v1::Resource>;

// Wire -> allocator. InvalidArgument naming the resource (by index and name) for a type
// without its value, negative, NaN or overflowing scalars, an inverted range, TEXT values,
// an invalid role, or an unsupported feature.
absl::StatusOr<allocator::Resources> FromProto(const ResourceList& resources);

// Allocator -> wire. Reserved entries get one ReservationInfo whose type is `reservation_type`
// (STATIC for an agent's own reservations, DYNAMIC for operator reservations). When
// `allocation_role` is non-empty every resource gets `allocation_info.role` set to it, as
// Mesos marks offered and allocated resources.
ResourceList ToProto(const allocator::Resources& resources,
                     mesos::v1::Resource::ReservationInfo::Type reservation_type =
                         mesos::v1::Resource::ReservationInfo::STATIC,
                     std::string_view allocation_role = "");

// Parses the Mesos text notation (see allocator/resources.h) straight to wire resources, with
// reservations STATIC: the form of an agent's --resources flag.
absl::StatusOr<ResourceList> ParseResourceText(std::string_view text);

// Parses agent attributes "rack:r1;zone:eu-1;cores:8": values that are decimal numbers become
// SCALAR, range lists "[a-b,...]" RANGES, sets "{a,b}" SET, anything else TEXT. Empty text is
// no attributes. InvalidArgument naming the entry for a missing ':' or an empty name.
absl::StatusOr<google::protobuf::RepeatedPtrField<mesos::v1::Attribute>> ParseAttributes(
    std::string_view text);

// True for the task states after which a task never changes (FINISHED, FAILED, KILLED, ERROR,
// LOST, DROPPED, GONE, GONE_BY_OPERATOR).
bool IsTerminalState(mesos::v1::TaskState state);

}  // namespace steward::common

#endif  // STEWARD_COMMON_MESOS_RESOURCES_H_
