#include "common/recordio.h"

#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace steward::common {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(RecordIoTest, EncodesLengthNewlineBytes) {
  EXPECT_EQ(EncodeRecordIo("hello"), "5\nhello");
  EXPECT_EQ(EncodeRecordIo(""), "0\n");
}

TEST(RecordIoTest, DecodesWholeStream) {
  RecordIoDecoder decoder;
  std::vector<std::string> records;
  ASSERT_TRUE(decoder.Decode("5\nhello0\n3\na\nb", &records).ok());
  EXPECT_THAT(records, ElementsAre("hello", "", "a\nb"));
  EXPECT_TRUE(decoder.AtRecordBoundary());
}

TEST(RecordIoTest, RoundTripWithRandomChunking) {
  std::mt19937 rng(42);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<std::string> expected;
    std::string stream;
    const int count = std::uniform_int_distribution<int>(0, 20)(rng);
    for (int i = 0; i < count; ++i) {
      std::string record(std::uniform_int_distribution<size_t>(0, 300)(rng), '\0');
      for (char& c : record) c = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
      stream += EncodeRecordIo(record);
      expected.push_back(std::move(record));
    }
    RecordIoDecoder decoder;
    std::vector<std::string> records;
    size_t pos = 0;
    while (pos < stream.size()) {
      const size_t n = std::uniform_int_distribution<size_t>(1, 16)(rng);
      ASSERT_TRUE(decoder.Decode(std::string_view(stream).substr(pos, n), &records).ok());
      pos += n;
    }
    EXPECT_EQ(records, expected) << "trial " << trial;
    EXPECT_TRUE(decoder.AtRecordBoundary());
  }
}

TEST(RecordIoTest, PartialRecordIsNotABoundary) {
  RecordIoDecoder decoder;
  std::vector<std::string> records;
  ASSERT_TRUE(decoder.Decode("1", &records).ok());
  EXPECT_FALSE(decoder.AtRecordBoundary());
  ASSERT_TRUE(decoder.Decode("0\nabc", &records).ok());
  EXPECT_FALSE(decoder.AtRecordBoundary());
  EXPECT_TRUE(records.empty());
}

TEST(RecordIoTest, RejectsBadLengths) {
  for (const char* bad : {"x\n", "12a\n", "-1\n", " 5\n", "5 \n", "\n", "05\nhello",
                          "123456789012345678901234567890"}) {
    RecordIoDecoder decoder;
    std::vector<std::string> records;
    const absl::Status status = decoder.Decode(bad, &records);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(status.message(), HasSubstr("RecordIO")) << bad;
    // The decoder stays failed.
    EXPECT_EQ(decoder.Decode("1\na", &records).code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(records.empty()) << bad;
  }
}

TEST(RecordIoTest, RejectsOversizeRecordBeforeReadingIt) {
  RecordIoDecoder decoder(/*max_record_bytes=*/10);
  std::vector<std::string> records;
  ASSERT_TRUE(decoder.Decode("10\n0123456789", &records).ok());
  const absl::Status status = decoder.Decode("11\n", &records);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(status.message(), HasSubstr("exceeds the maximum of 10 bytes"));
  EXPECT_THAT(records, ElementsAre("0123456789"));
  // A length too large for any integer is also just "too large", not an overflow.
  RecordIoDecoder huge(/*max_record_bytes=*/10);
  EXPECT_EQ(huge.Decode("99999999999999999999\n", &records).code(),
            absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace steward::common
