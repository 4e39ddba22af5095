// Field splitting and number parsing for the text trace formats, with the real files' quirks:
// spaces around fields, empty fields, floats written into integer columns ("18.00").
#ifndef STEWARD_TRACES_INTERNAL_FIELDS_H_
#define STEWARD_TRACES_INTERNAL_FIELDS_H_

#include <cstdint>
#include <string_view>
#include <vector>

namespace steward::traces::internal {

// Splits a comma-separated line (the traces use no quoting) and trims spaces and tabs around
// every field. An empty line gives one empty field.
void SplitCsv(std::string_view line, std::vector<std::string_view>* fields);

// Splits on runs of spaces and tabs; no empty fields.
void SplitWhitespace(std::string_view line, std::vector<std::string_view>* fields);

// Trims spaces and tabs at both ends.
std::string_view Trim(std::string_view text);

// The whole field as a finite number (no trailing characters, no NaN or infinity).
bool ParseDouble(std::string_view text, double* out);

// The whole field as an integer; an integral float such as "18.00" or "1e3" is accepted.
bool ParseInt(std::string_view text, int64_t* out);

}  // namespace steward::traces::internal

#endif  // STEWARD_TRACES_INTERNAL_FIELDS_H_
