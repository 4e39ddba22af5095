#include "daemon/cli/internal/table.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "allocator/resources.h"
#include "common/mesos_resources.h"

namespace steward::cli {
namespace {

size_t DisplayWidth(const std::string& text) {
  // UTF-8 continuation bytes do not start a character.
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

}  // namespace

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

void Table::AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }

std::string Table::Render() const {
  size_t columns = headers_.size();
  for (const auto& row : rows_) columns = std::max(columns, row.size());
  auto cell = [](const std::vector<std::string>& row, size_t i, bool header) -> std::string {
    if (i < row.size() && !row[i].empty()) return row[i];
    return header ? "" : "-";
  };
  std::vector<size_t> widths(columns, 0);
  for (size_t i = 0; i < columns; ++i) {
    widths[i] = DisplayWidth(cell(headers_, i, true));
    for (const auto& row : rows_)
      widths[i] = std::max(widths[i], DisplayWidth(cell(row, i, false)));
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& row, bool header) {
    std::string text;
    for (size_t i = 0; i < columns; ++i) {
      const std::string value = cell(row, i, header);
      text += value;
      if (i + 1 < columns) text.append(widths[i] - DisplayWidth(value) + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text;
    out += '\n';
  };
  line(headers_, true);
  for (const auto& row : rows_) line(row, false);
  return out;
}

std::string FormatResources(const google::protobuf::RepeatedPtrField<mesos::v1::Resource>& list) {
  absl::StatusOr<allocator::Resources> resources = common::FromProto(list);
  if (resources.ok()) return resources->ToString();
  // Resources the allocator does not model (volumes, say): show names rather than nothing.
  std::vector<std::string> names;
  for (const mesos::v1::Resource& r : list) names.push_back(r.name() + "(unsupported)");
  return absl::StrJoin(names, ";");
}

std::string FormatQuantities(
    const google::protobuf::Map<std::string, mesos::v1::Value::Scalar>& quantities) {
  std::map<std::string, double> sorted;
  for (const auto& [name, value] : quantities) sorted[name] = value.value();
  std::vector<std::string> parts;
  for (const auto& [name, value] : sorted) {
    absl::StatusOr<int64_t> milli = allocator::UnitsToMilli(value);
    parts.push_back(
        absl::StrCat(name, ":", milli.ok() ? allocator::FormatMilli(*milli) : absl::StrCat(value)));
  }
  return absl::StrJoin(parts, ";");
}

}  // namespace steward::cli
