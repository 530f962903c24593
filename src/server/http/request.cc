#include "server/http/http_server.h"

namespace sg::http {

std::string_view Request::Header(std::string_view lowercase_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lowercase_name) return value;
  }
  return {};
}

}  // namespace sg::http
