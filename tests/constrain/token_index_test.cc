// TokenIndex: the sorted order (unsigned bytes, ties by id), shared-prefix lengths, blanking of EOS
// ids and of tokens too long for a uint16 prefix, on hand vocabularies and the real qwen3 / llama2
// / demo vocabularies (checked against a direct recomputation).
#include "engine/constrain/token_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "constrain/vocab_fixture.h"

namespace sg {
namespace token_index_test {
namespace {

std::vector<std::string> SortedBytes(const TokenIndex& index) {
  std::vector<std::string> out;
  for (int32_t id : index.sorted_ids()) out.emplace_back(index.TokenBytes(id));
  return out;
}

TEST(TokenIndexTest, SortsHandVocabulary) {
  //                 0    1    2     3   4      5       6    7     8
  const TokenIndex index({"b", "a", "ab", "", "abc", "\xFF", "a", "ba", "</s>"}, {8});
  EXPECT_EQ(index.vocab_size(), 9);
  EXPECT_EQ(index.TokenBytes(8), "");  // EOS: allowed by acceptance, never by bytes
  ASSERT_EQ(index.eos_ids().size(), 1u);
  EXPECT_EQ(index.eos_ids()[0], 8);
  // Unsigned order: 0xFF sorts last; equal bytes keep id order; "" and EOS are absent.
  const std::vector<int32_t> want_ids = {1, 6, 2, 4, 0, 7, 5};
  EXPECT_EQ(std::vector<int32_t>(index.sorted_ids().begin(), index.sorted_ids().end()), want_ids);
  const std::vector<uint16_t> want_shared = {0, 1, 1, 2, 0, 1, 0};
  EXPECT_EQ(std::vector<uint16_t>(index.shared_prefix().begin(), index.shared_prefix().end()),
            want_shared);
  EXPECT_EQ(index.max_token_bytes(), 3u);
  const std::vector<std::string> want_suffix = {"a", "", "b", "c", "b", "a", "\xFF"};
  for (size_t i = 0; i < want_suffix.size(); ++i) EXPECT_EQ(index.sorted_suffix(i), want_suffix[i]);
}

TEST(TokenIndexTest, BadEosIdsAreIgnored) {
  const TokenIndex index({"a", "b"}, {-1, 2, 1, 1});
  ASSERT_EQ(index.eos_ids().size(), 1u);
  EXPECT_EQ(index.eos_ids()[0], 1);
  EXPECT_EQ(index.sorted_ids().size(), 1u);
}

// A token longer than a uint16 shared-prefix length can record is never allowed.
TEST(TokenIndexTest, OverlongTokenIsNeverAllowed) {
  const std::string longest(65535, 'x'), too_long(65536, 'x');
  const TokenIndex index({longest, too_long, "x"}, {});
  EXPECT_EQ(index.TokenBytes(1), "");
  ASSERT_EQ(index.sorted_ids().size(), 2u);
  EXPECT_EQ(index.sorted_ids()[0], 2);
  EXPECT_EQ(index.sorted_ids()[1], 0);
  EXPECT_EQ(index.shared_prefix()[1], 1);
  EXPECT_EQ(index.max_token_bytes(), 65535u);
}

TEST(TokenIndexTest, EmptyVocabulary) {
  const TokenIndex index({}, {0});
  EXPECT_EQ(index.vocab_size(), 0);
  EXPECT_TRUE(index.sorted_ids().empty());
  EXPECT_TRUE(index.eos_ids().empty());
}

class RealVocabTest : public testing::TestWithParam<std::string> {};

TEST_P(RealVocabTest, SortedWithExactSharedPrefixes) {
  const auto index = constrain_test::RealIndex(GetParam());
  ASSERT_NE(index, nullptr);
  const auto ids = index->sorted_ids();
  const auto shared = index->shared_prefix();
  ASSERT_EQ(ids.size(), shared.size());
  int32_t non_empty = 0;
  for (int32_t id = 0; id < index->vocab_size(); ++id) non_empty += !index->TokenBytes(id).empty();
  EXPECT_EQ(static_cast<int32_t>(ids.size()), non_empty);
  EXPECT_GT(non_empty, index->vocab_size() * 9 / 10);
  std::vector<bool> seen(static_cast<size_t>(index->vocab_size()), false);
  size_t longest = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    ASSERT_FALSE(seen[ids[i]]) << "id twice: " << ids[i];
    seen[ids[i]] = true;
    const std::string_view cur = index->TokenBytes(ids[i]);
    longest = std::max(longest, cur.size());
    if (i == 0) {
      EXPECT_EQ(shared[i], 0);
      continue;
    }
    const std::string_view prev = index->TokenBytes(ids[i - 1]);
    ASSERT_LE(prev, cur) << i;
    size_t common = 0;
    while (common < prev.size() && common < cur.size() && prev[common] == cur[common]) ++common;
    ASSERT_EQ(shared[i], common) << i;
    ASSERT_EQ(index->sorted_suffix(i), cur.substr(common)) << i;
  }
  EXPECT_EQ(index->max_token_bytes(), longest);
  for (int32_t eos : index->eos_ids()) EXPECT_EQ(index->TokenBytes(eos), "");
}

INSTANTIATE_TEST_SUITE_P(Vocabularies, RealVocabTest, testing::Values("qwen3", "llama2", "demo"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// The sorted list visits each byte string once in order, so SortedBytes is sorted and distinct ids
// with equal bytes are adjacent (a sanity check of the helper used by the grammar tests).
TEST(TokenIndexTest, SortedBytesHelper) {
  const TokenIndex index({"b", "a", "a"}, {});
  EXPECT_EQ(SortedBytes(index), (std::vector<std::string>{"a", "a", "b"}));
}

}  // namespace
}  // namespace token_index_test
}  // namespace sg
