// Helpers for simulator tests: scenario files in the test's temporary folder, reading files.
#ifndef STEWARD_TESTS_SIM_SIM_TEST_UTIL_H_
#define STEWARD_TESTS_SIM_SIM_TEST_UTIL_H_

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "sim/config.h"

namespace steward::sim::testing {

inline std::string WriteTemp(std::string_view name, std::string_view content) {
  const std::string path = ::testing::TempDir() + std::string(name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  return path;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// Loads a scenario written inline; fails the test on error.
inline SimConfig Scenario(std::string_view name, std::string_view text) {
  absl::StatusOr<SimConfig> config = LoadScenario(WriteTemp(name, text));
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : SimConfig{};
}

}  // namespace steward::sim::testing

#endif  // STEWARD_TESTS_SIM_SIM_TEST_UTIL_H_
