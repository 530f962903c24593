#include "server/http/request_parse.h"

#include <optional>
#include <string>

#include "server/http/cors.h"
#include "server/http/request_reader.h"
#include "server/http/wire.h"

namespace sg::http {

ConnectionOutcome DecideConnection(std::string_view bytes, std::span<const size_t> cuts,
                                   const RouteTable& routes, const ServerOptions& options) {
  ConnectionOutcome out;
  std::string buffer;  // received, not yet consumed: the connection's buffer_
  std::optional<RequestReader> reader;
  size_t delivered = 0;
  size_t next_cut = 0;
  for (;;) {
    if (!reader) reader.emplace(options);
    size_t used = 0;
    const RequestReader::Progress progress = reader->Feed(buffer, &used);
    buffer.erase(0, used);
    switch (progress) {
      case RequestReader::Progress::kHead:
        if (reader->expects_continue()) ++out.continues;
        continue;
      case RequestReader::Progress::kFailed:
        out.statuses.push_back(reader->failure().status);
        out.closed = true;
        return out;
      case RequestReader::Progress::kDone: {
        Framing framing = reader->framing();
        const Request request = reader->TakeRequest();
        reader.reset();
        const Decision d = routes.Decide(request, options);
        int status = 0;
        if (d.response) {
          // The serializer runs too: it must cope with whatever the request echoed (CORS).
          const std::string wire =
              SerializeResponse(*d.response, framing, CorsHeaders(request, options));
          status = wire.empty() ? -2 : d.response->status;
        }
        out.statuses.push_back(status);
        if (!framing.keep_alive) {
          out.closed = true;
          return out;
        }
        continue;
      }
      case RequestReader::Progress::kNeedMore:
        break;
    }
    // The next read.
    if (delivered == bytes.size()) {
      out.incomplete = !buffer.empty() || reader->head_done();
      return out;
    }
    while (next_cut < cuts.size() && cuts[next_cut] <= delivered) ++next_cut;
    const size_t end =
        next_cut < cuts.size() ? std::min(cuts[next_cut], bytes.size()) : bytes.size();
    buffer.append(bytes.substr(delivered, end - delivered));
    delivered = end;
  }
}

}  // namespace sg::http
