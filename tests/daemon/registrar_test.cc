#include "daemon/registrar.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace steward::daemon {
namespace {

class RegistrarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("steward-registrar-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(RegistrarTest, StoresVersionsInOrderAndRecoversThem) {
  auto registrar = FileRegistrar::Create(dir_ + "/nested");
  ASSERT_TRUE(registrar.ok());
  auto empty = (*registrar)->Recover();
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->version(), 0u);
  registry::Registry reg;
  reg.set_version(1);
  reg.add_weights()->set_weight(2);
  reg.mutable_weights(0)->set_role("eng");
  ASSERT_TRUE((*registrar)->Store(reg).ok());
  // Not the next version: refused, nothing changes.
  reg.set_version(3);
  EXPECT_EQ((*registrar)->Store(reg).code(), absl::StatusCode::kFailedPrecondition);
  reg.set_version(1);
  EXPECT_EQ((*registrar)->Store(reg).code(), absl::StatusCode::kFailedPrecondition);
  reg.set_version(2);
  reg.mutable_weights(0)->set_weight(3);
  ASSERT_TRUE((*registrar)->Store(reg).ok());
  // A second registrar (a restarted master) sees version 2.
  auto again = FileRegistrar::Create(dir_ + "/nested");
  ASSERT_TRUE(again.ok());
  auto recovered = (*again)->Recover();
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(recovered->version(), 2u);
  EXPECT_EQ(recovered->weights(0).weight(), 3);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/nested/registry.pb.tmp"));
}

TEST_F(RegistrarTest, CorruptFileIsDataLoss) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ + "/registry.pb") << "\xff\xff\xff garbage";
  auto registrar = FileRegistrar::Create(dir_);
  ASSERT_TRUE(registrar.ok());
  auto recovered = (*registrar)->Recover();
  EXPECT_EQ(recovered.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(recovered.status().message()), ::testing::HasSubstr("registry.pb"));
}

TEST_F(RegistrarTest, UnwritableDirectoryIsAnError) {
  auto registrar = FileRegistrar::Create("/proc/steward-cannot-exist");
  EXPECT_FALSE(registrar.ok());
}

}  // namespace
}  // namespace steward::daemon
