// The embedded OpenAPI document parses and lists every route we serve.
#include "server/api/openapi.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace sg::api {
namespace {

TEST(OpenApi, EveryRouteIsDocumented) {
  const nlohmann::json doc = nlohmann::json::parse(OpenApiDocument(), nullptr, false);
  ASSERT_FALSE(doc.is_discarded());
  EXPECT_EQ(doc["info"]["title"], "streamgen (Text Generation Inference compatible)");
  EXPECT_EQ(doc["openapi"].get<std::string>().substr(0, 2), "3.");
  EXPECT_EQ(doc["info"]["version"], STREAMGEN_VERSION);  // filled in at configure time
  const std::pair<const char*, const char*> kRoutes[] = {
      {"/generate", "post"},
      {"/generate_stream", "post"},
      {"/", "post"},
      {"/invocations", "post"},
      {"/tokenize", "post"},
      {"/v1/completions", "post"},
      {"/info", "get"},
      {"/health", "get"},
      {"/ping", "get"},
      {"/metrics", "get"},
      {"/v1/models", "get"},
      {"/api-doc/openapi.json", "get"},
      {"/", "get"},
      {"/v1/chat/completions", "post"},
      {"/chat_tokenize", "post"},
  };
  for (const auto& [path, method] : kRoutes) {
    EXPECT_TRUE(doc["paths"].contains(path) && doc["paths"][path].contains(method))
        << method << " " << path;
  }
  // Every $ref points at a schema that exists.
  std::vector<const nlohmann::json*> stack = {&doc};
  while (!stack.empty()) {
    const nlohmann::json& node = *stack.back();
    stack.pop_back();
    if (node.is_object() && node.contains("$ref")) {
      const std::string ref = node["$ref"];
      ASSERT_EQ(ref.rfind("#/components/schemas/", 0), 0u) << ref;
      EXPECT_TRUE(doc["components"]["schemas"].contains(ref.substr(21))) << ref;
    }
    if (node.is_structured()) {
      for (const auto& child : node) stack.push_back(&child);
    }
  }
}

}  // namespace
}  // namespace sg::api
