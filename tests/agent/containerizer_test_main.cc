// main() of the containerizer tests. Like any binary that creates a Containerizer, it calls
// MaybeRunSupervisor() first: the tests' containers are supervised by this binary re-executed.
// It also serves as a task with a known memory appetite ("--allocate-mib=N": allocates and
// touches N MiB, then exits 0).
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "agent/containerizer.h"
#include "gtest/gtest.h"

namespace {

constexpr char kAllocateFlag[] = "--allocate-mib=";

int AllocateAndTouch(const char* mib_text) {
  const long mib = std::strtol(mib_text, nullptr, 10);
  static std::vector<std::unique_ptr<char[]>> blocks;  // Reachable: no leak reports.
  for (long i = 0; i < mib; ++i) {
    blocks.emplace_back(new char[1 << 20]);
    std::memset(blocks.back().get(), 1, 1 << 20);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strncmp(argv[1], kAllocateFlag, std::strlen(kAllocateFlag)) == 0) {
    return AllocateAndTouch(argv[1] + std::strlen(kAllocateFlag));
  }
  steward::agent::MaybeRunSupervisor(argc, argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
