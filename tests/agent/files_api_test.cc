#include "agent/internal/files_api.h"

#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "agent/internal/checkpoint_store.h"
#include "agent/internal/file_io.h"
#include "common/json_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace steward::agent::internal {
namespace {

using ::testing::HasSubstr;

class FilesApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/steward_files_test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    work_dir_ = pattern;
    sandbox_ = work_dir_ + "/slaves/A/frameworks/F/executors/E/runs/C";
    ASSERT_TRUE(MakeDirectories(sandbox_, 0755).ok());
    std::ofstream(sandbox_ + "/stdout") << "hello\nworld\n";
    std::ofstream(work_dir_ + "/secret") << "do not serve";
    ASSERT_EQ(::symlink((work_dir_ + "/secret").c_str(), (sandbox_ + "/link").c_str()), 0);
  }
  void TearDown() override { ASSERT_EQ(std::system(("rm -rf '" + work_dir_ + "'").c_str()), 0); }

  common::HttpResponse Read(const std::string& query) {
    common::HttpRequest request;
    request.method = "GET";
    request.path = "/files/read";
    request.query = query;
    return ServeFilesRead(work_dir_, request);
  }

  std::string work_dir_;
  std::string sandbox_;
};

TEST_F(FilesApiTest, ReadsARangeOfASandboxFile) {
  common::HttpResponse response = Read("path=" + sandbox_ + "/stdout&offset=6&length=5");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, R"({"data":"world","offset":6})");
  response = Read("path=" + sandbox_ + "/stdout&offset=0");
  EXPECT_EQ(response.body, R"({"data":"hello\nworld\n","offset":0})");
  response = Read("path=" + sandbox_ + "/stdout&offset=100&length=5");
  EXPECT_EQ(response.body, R"({"data":"","offset":100})");
}

TEST_F(FilesApiTest, OffsetMinusOneGivesTheSize) {
  common::HttpResponse response = Read("path=" + sandbox_ + "/stdout&offset=-1");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, R"({"data":"","offset":12})");
}

TEST_F(FilesApiTest, PercentEncodedPathsAreDecoded) {
  std::string encoded = sandbox_ + "/stdout";
  for (size_t pos = encoded.find('/'); pos != std::string::npos; pos = encoded.find('/', pos)) {
    encoded.replace(pos, 1, "%2F");
  }
  EXPECT_EQ(Read("path=" + encoded + "&offset=0&length=5").body, R"({"data":"hello","offset":0})");
}

TEST_F(FilesApiTest, RefusesEscapesMissingFilesAndBadParameters) {
  common::HttpResponse response = Read("path=" + sandbox_ + "/../../../../../../../secret");
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(response.body, HasSubstr(".."));
  response = Read("path=" + work_dir_ + "/secret");
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(response.body, HasSubstr("outside"));
  response = Read("path=" + sandbox_ + "/link");  // A symbolic link out of the sandboxes.
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(Read("path=" + sandbox_ + "/nope").status, 404);
  EXPECT_EQ(Read("path=" + sandbox_).status, 400);  // A directory.
  EXPECT_EQ(Read("offset=0").status, 400);
  EXPECT_EQ(Read("path=relative/stdout").status, 400);
  EXPECT_EQ(Read("path=" + sandbox_ + "/stdout&offset=-2").status, 400);
  EXPECT_EQ(Read("path=" + sandbox_ + "/stdout&offset=x").status, 400);
  EXPECT_EQ(Read("path=" + sandbox_ + "/stdout&length=-1").status, 400);
  EXPECT_EQ(Read("path=%zz").status, 400);
  EXPECT_EQ(Read("path=%2").status, 400);
}

TEST(JsonQuoteTest, EscapesControlCharactersAndInvalidUtf8) {
  EXPECT_EQ(common::JsonQuote("a\"b\\c\n\x01"), R"("a\"b\\c\n\u0001")");
  EXPECT_EQ(common::JsonQuote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");  // Valid UTF-8 stays.
  EXPECT_EQ(common::JsonQuote("\xff\xc3"), R"("\u00ff\u00c3")");
}

}  // namespace
}  // namespace steward::agent::internal
