// The ResponseWriter decorator that makes a route's SSE stream resumable (resumable_streams.h),
// and the reconnect side: ResumeOrWrap, called first by every handler that may stream.
//
// What the decorator changes for the handler, which is written as without the flag:
//   * StartSse opens a resumable stream (or, when the registry refuses, a plain one);
//   * the handler's OnDisconnect callback no longer runs when the client leaves a resumable
//     stream: it runs when the registry cancels the stream (the window passed with no client, a
//     cap passed while detached, or shutdown). Before StartSse, or for a plain stream, it runs
//     when the client leaves, as without the flag;
//   * Respond passes through (non-streamed answers and errors before the stream).
//
// Thread rules: as ResponseWriter: any thread, never blocks. The handler's callback runs once at
// most, never under the decorator's or the registry's mutex.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "server/http/http_server.h"
#include "server/http/resumable_streams.h"

namespace sg::http {

class ResumableWriter : public ResponseWriter,
                        public std::enable_shared_from_this<ResumableWriter> {
 public:
  ResumableWriter(std::shared_ptr<ResumableStreams> registry, std::string route,
                  std::shared_ptr<ResponseWriter> inner);
  void Respond(Response response) override;
  std::shared_ptr<SseStream> StartSse(Headers extra_headers) override;
  void OnDisconnect(std::function<void()> callback) override;

 private:
  void WatchInner();  // (re)registers InnerGone on the inner writer
  void InnerGone();   // the client of the first connection left

  const std::shared_ptr<ResumableStreams> registry_;
  const std::string route_;
  const std::shared_ptr<ResponseWriter> inner_;

  std::mutex mu_;
  bool started_ = false;                     // StartSse was called
  bool gone_ = false;                        // the first connection's client left
  bool called_ = false;                      // callback_ ran (or was handed to stream_)
  std::shared_ptr<ResumableStream> stream_;  // when StartSse opened a resumable stream
  std::shared_ptr<SseStream> plain_;         // when it could not
  std::function<void()> callback_;           // the handler's OnDisconnect
};

// The entry point of a handler that may stream, with the flag on (`registry` non-null). A
// request with a non-empty `Last-Event-ID` is a reconnect: it is answered here (a 200 stream that
// resumes, or 204 / 400 / 404, see ResumeResult) and true is returned: the handler returns too.
// Otherwise *writer is replaced by a ResumableWriter for `request.path` and false is returned.
// With a null registry: false, nothing changed (TGI ignores Last-Event-ID).
bool ResumeOrWrap(const std::shared_ptr<ResumableStreams>& registry, const Request& request,
                  std::shared_ptr<ResponseWriter>* writer);

}  // namespace sg::http
