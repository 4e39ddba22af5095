#include "agent/internal/reservations.h"

#include "gtest/gtest.h"

namespace steward::agent::internal {
namespace {

using mesos::v1::Resource;
using mesos::v1::Value;

Resource Reserved(const std::string& name, double amount, const std::string& role = "eng") {
  Resource resource;
  resource.set_name(name);
  resource.set_type(Value::SCALAR);
  resource.mutable_scalar()->set_value(amount);
  auto* reservation = resource.add_reservations();
  reservation->set_type(Resource::ReservationInfo::DYNAMIC);
  reservation->set_role(role);
  reservation->set_principal("ops");
  return resource;
}

Resource Ports(uint64_t begin, uint64_t end) {
  Resource resource = Reserved("ports", 0);
  resource.clear_scalar();
  resource.set_type(Value::RANGES);
  auto* range = resource.mutable_ranges()->add_range();
  range->set_begin(begin);
  range->set_end(end);
  return resource;
}

WireResources List(std::initializer_list<Resource> resources) {
  WireResources list;
  for (const Resource& r : resources) *list.Add() = r;
  return list;
}

TEST(ReservationsTest, AddMergesTheSameReservationExactly) {
  WireResources held;
  ASSERT_TRUE(AddReservations(List({Reserved("cpus", 0.1), Reserved("mem", 64)}), &held).ok());
  ASSERT_TRUE(
      AddReservations(List({Reserved("cpus", 0.2), Reserved("cpus", 1, "web")}), &held).ok());
  ASSERT_EQ(held.size(), 3);
  EXPECT_EQ(held[0].name(), "cpus");
  EXPECT_DOUBLE_EQ(held[0].scalar().value(), 0.3);  // Milli-units: exactly 0.3.
  EXPECT_EQ(held[2].reservations(0).role(), "web");
}

TEST(ReservationsTest, SubtractRemovesEmptiedResourcesAndRefusesWhatIsNotHeld) {
  WireResources held;
  ASSERT_TRUE(AddReservations(List({Reserved("cpus", 2), Ports(31000, 31010)}), &held).ok());
  ASSERT_TRUE(SubtractReservations(List({Reserved("cpus", 0.5), Ports(31005, 31005)}), &held).ok());
  ASSERT_EQ(held.size(), 2);
  EXPECT_DOUBLE_EQ(held[0].scalar().value(), 1.5);
  ASSERT_EQ(held[1].ranges().range_size(), 2);
  EXPECT_EQ(held[1].ranges().range(0).end(), 31004u);
  EXPECT_EQ(held[1].ranges().range(1).begin(), 31006u);

  const WireResources before = held;
  EXPECT_EQ(SubtractReservations(List({Reserved("cpus", 1.6)}), &held).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(SubtractReservations(List({Reserved("cpus", 1, "other")}), &held).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(SubtractReservations(List({Reserved("cpus", 0.5), Ports(31005, 31005)}), &held).code(),
            absl::StatusCode::kFailedPrecondition);  // Port 31005 is no longer held.
  EXPECT_EQ(held.size(), before.size());
  EXPECT_DOUBLE_EQ(held[0].scalar().value(), 1.5);  // Unchanged after every error.

  ASSERT_TRUE(SubtractReservations(List({Reserved("cpus", 1.5)}), &held).ok());
  ASSERT_EQ(held.size(), 1);
  EXPECT_EQ(held[0].name(), "ports");
}

TEST(ReservationsTest, RejectsUnreservedAndMalformedResources) {
  WireResources held;
  Resource unreserved = Reserved("cpus", 1);
  unreserved.clear_reservations();
  EXPECT_EQ(AddReservations(List({unreserved}), &held).code(), absl::StatusCode::kInvalidArgument);
  Resource negative = Reserved("cpus", -1);
  EXPECT_EQ(AddReservations(List({negative}), &held).code(), absl::StatusCode::kInvalidArgument);
  Resource inverted = Ports(5, 4);
  EXPECT_EQ(AddReservations(List({inverted}), &held).code(), absl::StatusCode::kInvalidArgument);
  Resource no_value = Reserved("mem", 1);
  no_value.clear_scalar();
  EXPECT_EQ(AddReservations(List({Reserved("cpus", 1), no_value}), &held).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(held.empty());  // Nothing applied when any resource is bad.
}

}  // namespace
}  // namespace steward::agent::internal
