#include "engine/runtime/id_list.h"

#include <gtest/gtest.h>

namespace sg {
namespace {

TEST(IdList, ParsesListsWithSpaces) {
  auto ids = ParseIdList(" 1, 2,30 ");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<int32_t>{1, 2, 30}));
  auto lists = ParseIdLists("1,2;3");
  ASSERT_TRUE(lists.ok());
  ASSERT_EQ(lists->size(), 2u);
  EXPECT_EQ((*lists)[1], (std::vector<int32_t>{3}));
}

TEST(IdList, RejectsMalformedInput) {
  for (const char* bad : {"", " ", "1,,2", "1,", "-1", "a", "1.5", "99999999999", "1;"}) {
    EXPECT_FALSE(ParseIdLists(bad).ok()) << bad;
  }
  EXPECT_EQ(ParseIdList("x").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sg
