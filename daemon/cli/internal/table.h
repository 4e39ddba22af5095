// Plain-text output of the CLI: aligned tables and Mesos resource notation.
#ifndef STEWARD_DAEMON_CLI_INTERNAL_TABLE_H_
#define STEWARD_DAEMON_CLI_INTERNAL_TABLE_H_

#include <string>
#include <vector>

#include "google/protobuf/map.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "proto/mesos/v1/mesos.pb.h"

namespace steward::cli {

// Columns left-aligned to their widest cell (counted in UTF-8 characters), separated by two
// spaces, with a header row; no trailing blanks. Rows shorter than the header are padded with
// empty cells; longer rows widen the table (their extra cells have no header). An empty cell
// prints as "-" so columns stay readable. Not thread-safe.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  void AddRow(std::vector<std::string> cells);
  size_t rows() const { return rows_.size(); }
  // Every line ends with '\n'.
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// Wire resources in Mesos text notation, canonical (merged and sorted as
// allocator::Resources prints them): "cpus:2;mem:1024;ports:[31000-32000]", reservations as
// "cpus(role):1". Empty list: "". Resources Steward does not model are listed by name with
// "(unsupported)".
std::string FormatResources(const google::protobuf::RepeatedPtrField<mesos::v1::Resource>& list);

// A quota's quantities ("cpus:4;mem:4096"), by name.
std::string FormatQuantities(const google::protobuf::Map<std::string, mesos::v1::Value::Scalar>& q);

}  // namespace steward::cli

#endif  // STEWARD_DAEMON_CLI_INTERNAL_TABLE_H_
