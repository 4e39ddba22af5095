# Every third-party dependency is found here, once, from the Debian 12 packages that
# scripts/install-deps installs. Debian ships CMake configs for all of them except Protobuf
# and zlib, which are found in module mode (Find*.cmake from CMake itself).
find_package(absl REQUIRED CONFIG)
find_package(Protobuf REQUIRED MODULE)
find_package(TBB REQUIRED CONFIG)
find_package(Eigen3 3.4 REQUIRED CONFIG NO_MODULE)
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED)  # header-only Beast and Asio (common/ HTTP stack)
find_package(ZLIB REQUIRED)  # gzip-compressed traces (FindZLIB.cmake from CMake itself)
if(STEWARD_BUILD_TESTS)
  find_package(GTest REQUIRED CONFIG)
endif()
if(STEWARD_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED CONFIG)
endif()
