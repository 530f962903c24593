// The asynchronous log: a logging thread never waits for a stalled stdout (the oldest queued
// messages are dropped and counted instead), and what is queued is written out on Stop.
#include "server/app/async_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

namespace sg::server {
namespace {

// Points fd 1 at the write end of a pipe for the test's lifetime; Drain reads what arrived.
class StdoutPipe {
 public:
  StdoutPipe() {
    std::fflush(stdout);
    saved_ = dup(1);
    EXPECT_EQ(pipe(fds_), 0);
    dup2(fds_[1], 1);
  }
  ~StdoutPipe() {
    std::fflush(stdout);
    dup2(saved_, 1);
    close(saved_);
    close(fds_[1]);
    close(fds_[0]);
  }
  // Reads until the writer side has nothing more for 200 ms.
  std::string Drain() {
    std::string out;
    fcntl(fds_[0], F_SETFL, O_NONBLOCK);
    char buf[65536];
    int idle_ms = 0;
    while (idle_ms < 200) {
      const ssize_t n = read(fds_[0], buf, sizeof(buf));
      if (n > 0) {
        out.append(buf, static_cast<size_t>(n));
        idle_ms = 0;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        idle_ms += 10;
      }
    }
    return out;
  }

 private:
  int saved_ = -1;
  int fds_[2] = {-1, -1};
};

TEST(AsyncLog, QueuedMessagesAreWrittenOnStop) {
  StdoutPipe out;
  StartAsyncLogging(/*json_output=*/false);
  for (int i = 0; i < 100; ++i) spdlog::info("message {}", i);
  std::thread reader([&] {
    const std::string text = out.Drain();
    EXPECT_NE(text.find("message 0\n"), std::string::npos);
    EXPECT_NE(text.find("message 99\n"), std::string::npos);
  });
  EXPECT_EQ(LogMessagesDropped(), 0);  // 100 lines fit the queue
  StopAsyncLogging();
  spdlog::info("after stop");  // the synchronous logger again; must not crash
  reader.join();
}

TEST(AsyncLog, AStalledStdoutDropsMessagesInsteadOfBlocking) {
  StdoutPipe out;
  StartAsyncLogging(/*json_output=*/true);
  // Nobody reads the pipe (64 KiB): the writer thread blocks in write() and the queue of 8 192
  // messages fills. If a log call waited for it, this loop would never end (test timeout).
  const std::string line(200, 'x');
  for (int i = 0; i < 50000; ++i) spdlog::info("{} {}", i, line);
  EXPECT_GT(LogMessagesDropped(), 0);
  std::thread reader([&] {
    const std::string text = out.Drain();
    // JSON lines: the last message is among those still queued, and arrives.
    EXPECT_NE(text.find(R"("level":"info","target":"streamgen","message":"49999 x)"),
              std::string::npos);
  });
  StopAsyncLogging();
  reader.join();
  EXPECT_EQ(LogMessagesDropped(), 0);  // stopped: no queue, nothing counted
}

}  // namespace
}  // namespace sg::server
