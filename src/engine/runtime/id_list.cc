#include "engine/runtime/id_list.h"

#include <limits>
#include <string>

namespace sg {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

StatusOr<std::vector<int32_t>> ParseIdList(std::string_view text) {
  std::vector<int32_t> ids;
  if (Trim(text).empty()) return InvalidArgumentError("empty token id list");
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    const std::string_view item =
        Trim(text.substr(start, comma == std::string_view::npos ? text.npos : comma - start));
    if (item.empty())
      return InvalidArgumentError("empty item in token id list '" + std::string(text) + "'");
    int64_t value = 0;
    for (char ch : item) {
      if (ch < '0' || ch > '9') {
        return InvalidArgumentError("token id '" + std::string(item) +
                                    "' is not a non-negative integer");
      }
      value = value * 10 + (ch - '0');
      if (value > std::numeric_limits<int32_t>::max()) {
        return InvalidArgumentError("token id '" + std::string(item) + "' is too large");
      }
    }
    ids.push_back(static_cast<int32_t>(value));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return ids;
}

StatusOr<std::vector<std::vector<int32_t>>> ParseIdLists(std::string_view text) {
  std::vector<std::vector<int32_t>> lists;
  size_t start = 0;
  for (;;) {
    const size_t semi = text.find(';', start);
    const std::string_view part =
        text.substr(start, semi == std::string_view::npos ? text.npos : semi - start);
    SG_ASSIGN_OR_RETURN(std::vector<int32_t> ids, ParseIdList(part));
    lists.push_back(std::move(ids));
    if (semi == std::string_view::npos) break;
    start = semi + 1;
  }
  return lists;
}

}  // namespace sg
