#include "daemon/cli/internal/table.h"

#include <string>

#include "gtest/gtest.h"

namespace steward::cli {
namespace {

TEST(Table, AlignsColumnsAndMarksEmptyCells) {
  Table table({"ID", "NAME", "STATE"});
  table.AddRow({"a1", "web", "active"});
  table.AddRow({"agent-22", "", "inactive"});
  table.AddRow({"x"});
  EXPECT_EQ(table.rows(), 3u);
  EXPECT_EQ(table.Render(),
            "ID        NAME  STATE\n"
            "a1        web   active\n"
            "agent-22  -     inactive\n"
            "x         -     -\n");
}

TEST(Table, CountsCharactersNotBytes) {
  Table table({"N", "V"});
  table.AddRow({"\xc3\xa9t\xc3\xa9", "1"});
  table.AddRow({"abcd", "2"});
  EXPECT_EQ(table.Render(),
            "N     V\n"
            "\xc3\xa9t\xc3\xa9   1\n"
            "abcd  2\n");
}

TEST(Table, HeaderOnly) { EXPECT_EQ(Table({"A", "BB"}).Render(), "A  BB\n"); }

TEST(FormatResources, CanonicalMesosNotation) {
  google::protobuf::RepeatedPtrField<mesos::v1::Resource> list;
  mesos::v1::Resource* mem = list.Add();
  mem->set_name("mem");
  mem->set_type(mesos::v1::Value::SCALAR);
  mem->mutable_scalar()->set_value(512);
  mesos::v1::Resource* cpus = list.Add();
  cpus->set_name("cpus");
  cpus->set_type(mesos::v1::Value::SCALAR);
  cpus->mutable_scalar()->set_value(1.5);
  mesos::v1::Resource* reserved = list.Add();
  *reserved = *cpus;
  reserved->mutable_scalar()->set_value(0.25);
  reserved->add_reservations()->set_role("eng");
  mesos::v1::Resource* ports = list.Add();
  ports->set_name("ports");
  ports->set_type(mesos::v1::Value::RANGES);
  mesos::v1::Value::Range* range = ports->mutable_ranges()->add_range();
  range->set_begin(31000);
  range->set_end(31010);
  EXPECT_EQ(FormatResources(list), "cpus:1.5;cpus(eng):0.25;mem:512;ports:[31000-31010]");
  EXPECT_EQ(FormatResources({}), "");
}

TEST(FormatResources, NamesWhatItCannotRead) {
  google::protobuf::RepeatedPtrField<mesos::v1::Resource> list;
  mesos::v1::Resource* text = list.Add();
  text->set_name("label");
  text->set_type(mesos::v1::Value::TEXT);
  EXPECT_EQ(FormatResources(list), "label(unsupported)");
}

TEST(FormatQuantities, SortedByName) {
  google::protobuf::Map<std::string, mesos::v1::Value::Scalar> quantities;
  quantities["mem"].set_value(4096);
  quantities["cpus"].set_value(0.5);
  EXPECT_EQ(FormatQuantities(quantities), "cpus:0.5;mem:4096");
  EXPECT_EQ(FormatQuantities({}), "");
}

}  // namespace
}  // namespace steward::cli
