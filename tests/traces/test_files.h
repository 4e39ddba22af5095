// Helpers for trace tests: where the shared real traces are, and writing small fixture files
// (plain or gzip-compressed) into the test's temporary directory.
#ifndef STEWARD_TESTS_TRACES_TEST_FILES_H_
#define STEWARD_TESTS_TRACES_TEST_FILES_H_

#include <zlib.h>

#include <fstream>
#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace steward::traces::testing {

// Path of a file under ../shared/traces (relative to the repository root).
inline std::string SharedTrace(std::string_view relative) {
  return std::string(STEWARD_SHARED_TRACES) + "/" + std::string(relative);
}

// Writes `content` to a fresh file named `name` in the test's temporary directory; gzip
// compressed when `gzip` is set. Returns the path.
inline std::string WriteFixture(std::string_view name, std::string_view content,
                                bool gzip = false) {
  const std::string path = ::testing::TempDir() + std::string(name);
  if (gzip) {
    gzFile file = gzopen(path.c_str(), "wb");
    EXPECT_NE(file, nullptr) << path;
    if (file != nullptr) {
      EXPECT_EQ(gzwrite(file, content.data(), static_cast<unsigned>(content.size())),
                static_cast<int>(content.size()));
      gzclose(file);
    }
  } else {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
  }
  return path;
}

}  // namespace steward::traces::testing

#endif  // STEWARD_TESTS_TRACES_TEST_FILES_H_
