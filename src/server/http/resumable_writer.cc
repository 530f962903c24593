#include "server/http/resumable_writer.h"

#include <utility>

namespace sg::http {

namespace {

// TGI's error shape ({"error","error_type"}); the texts are fixed, nothing from the request.
Response ResumeError(int status, const char* message, const char* type) {
  return Response{status,
                  "application/json",
                  {},
                  std::string("{\"error\":\"") + message + "\",\"error_type\":\"" + type + "\"}"};
}

}  // namespace

ResumableWriter::ResumableWriter(std::shared_ptr<ResumableStreams> registry, std::string route,
                                 std::shared_ptr<ResponseWriter> inner)
    : registry_(std::move(registry)), route_(std::move(route)), inner_(std::move(inner)) {}

void ResumableWriter::Respond(Response response) { inner_->Respond(std::move(response)); }

std::shared_ptr<SseStream> ResumableWriter::StartSse(Headers extra_headers) {
  std::function<void()> handover;
  std::shared_ptr<ResumableStream> resumable;
  std::shared_ptr<SseStream> result;
  {
    std::lock_guard lock(mu_);
    if (started_) return stream_ ? std::shared_ptr<SseStream>(stream_) : plain_;
    started_ = true;
    // A client already gone never saw a stream id: a plain (already closed) stream, and the
    // callback has run or will run at registration, as without the flag.
    if (!gone_) stream_ = registry_->Open(route_, *inner_, extra_headers);
    if (stream_) {
      if (callback_ && !called_) {  // registered before the stream started (the chat route)
        called_ = true;
        handover = std::move(callback_);
      }
      resumable = stream_;
      result = stream_;
    } else {
      plain_ = inner_->StartSse(std::move(extra_headers));
      result = plain_;
    }
  }
  if (handover) resumable->SetCancel(std::move(handover));
  WatchInner();
  return result;
}

void ResumableWriter::OnDisconnect(std::function<void()> callback) {
  std::shared_ptr<ResumableStream> stream;
  bool run_now = false;
  {
    std::lock_guard lock(mu_);
    if (called_) return;
    if (stream_) {
      stream = stream_;
      called_ = true;
    } else if (gone_) {  // the client left before the handler registered
      called_ = true;
      run_now = true;
    } else {
      callback_ = std::move(callback);
    }
  }
  if (stream) {
    stream->SetCancel(std::move(callback));
  } else if (run_now) {
    if (callback) callback();
  } else {
    WatchInner();
  }
}

void ResumableWriter::WatchInner() {
  // Registered again on every call: the same function, and the connection keeps the last one (or
  // runs it at once if the client already left; InnerGone runs once).
  inner_->OnDisconnect([weak = weak_from_this()] {
    if (auto self = weak.lock()) self->InnerGone();
  });
}

void ResumableWriter::InnerGone() {
  std::shared_ptr<ResumableStream> stream;
  std::function<void()> cb;
  {
    std::lock_guard lock(mu_);
    if (gone_) return;
    gone_ = true;
    stream = stream_;
    if (!stream && !called_ && callback_) {
      called_ = true;
      cb = std::move(callback_);
    }
  }
  if (stream) {
    stream->DetachFirst();  // the registry decides: keep for the window, or cancel
  } else if (cb) {
    cb();
  }
}

bool ResumeOrWrap(const std::shared_ptr<ResumableStreams>& registry, const Request& request,
                  std::shared_ptr<ResponseWriter>* writer) {
  if (!registry) return false;
  const std::string_view last_event_id = request.Header("last-event-id");
  if (last_event_id.empty()) {
    *writer = std::make_shared<ResumableWriter>(registry, request.path, std::move(*writer));
    return false;
  }
  ResponseWriter& w = **writer;
  switch (registry->Resume(request.path, last_event_id, w)) {
    case ResumableStreams::ResumeResult::kResumed:
      break;
    case ResumableStreams::ResumeResult::kNothingLeft:
      // 204 tells an EventSource the stream is over: it does not reconnect again.
      w.Respond(Response{204, "", {}, ""});
      break;
    case ResumableStreams::ResumeResult::kMalformed:
      w.Respond(ResumeError(400,
                            "Invalid Last-Event-ID: expected <stream id>-<event number> as sent in "
                            "the stream's id lines",
                            "invalid_last_event_id"));
      break;
    case ResumableStreams::ResumeResult::kNotFound:
      w.Respond(ResumeError(404,
                            "Stream not found: unknown or expired stream id, or the stream is no "
                            "longer resumable",
                            "stream_not_found"));
      break;
  }
  return true;
}

}  // namespace sg::http
