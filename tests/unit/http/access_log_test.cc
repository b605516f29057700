// Tests for the access log (src/http/access_log.h): bounded, never blocking
// a request, never carrying a key.
#include "http/access_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

namespace keyward::http {
namespace {

HttpRequest Request(const std::string& path) {
  HttpRequest r;
  r.method = "GET";
  r.path = path;
  r.remote = "127.0.0.1";
  return r;
}

// Issue 7, finding 8: a writer stuck on a full pipe let the buffer grow
// without bound. Lines beyond the bound are dropped and counted.
TEST(AccessLog, Issue7_AStuckWriterDropsLinesInsteadOfGrowingMemory) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::FILE* out = fdopen(fds[1], "w");
  Metrics metrics;
  {
    AccessLog log(out, 16 * 1024, metrics);
    HttpResponse res;
    res.route = "/healthz";
    // Nobody reads the pipe: the writer blocks once the pipe is full.
    for (int i = 0; i < 20'000; ++i) log.Log(Request("/healthz"), res, 0.001, 0);
    EXPECT_GT(metrics.access_log_dropped_lines_total.load(), 10'000u);
    // Drain the pipe so that the writer can finish, then stop.
    std::thread reader([&] {
      char buf[65536];
      while (read(fds[0], buf, sizeof buf) > 0) {
      }
    });
    log.Stop();
    std::fclose(out);
    reader.join();
  }
  close(fds[0]);
}

// What a log writes to a file when `write` has logged into it and stopped.
template <typename Write>
std::string LoggedText(Write write) {
  char path[] = "/tmp/keyward-access-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  std::FILE* out = fdopen(fd, "w");
  Metrics metrics;
  {
    AccessLog log(out, 1 << 20, metrics);
    write(log);
    log.Stop();
  }
  std::fclose(out);
  std::FILE* in = std::fopen(path, "r");
  char buf[4096] = {0};
  std::size_t n = std::fread(buf, 1, sizeof buf - 1, in);
  std::fclose(in);
  unlink(path);
  return std::string(buf, n);
}

TEST(AccessLog, AKeyPastedIntoAPathIsCutToItsDisplayPart) {
  const std::string key = "kw_live_AbCd3fGh1jKlMnOpQrStUvWxYz0123aBcDeF";
  std::string text = LoggedText([&](AccessLog& log) {
    HttpResponse res;
    res.route = "(unmatched)";
    log.Log(Request("/v1/keys/" + key), res, 0, 0);
  });
  EXPECT_EQ(text.find(key), std::string::npos) << text;
  EXPECT_NE(text.find("kw_live_AbCd..."), std::string::npos) << text;
}

TEST(AccessLog, ALineHasMillisecondTimesMicrosecondLatenciesAndEscapedText) {
  std::string text = LoggedText([](AccessLog& log) {
    HttpResponse res;
    res.route = "(unmatched)";
    res.status = 404;
    // 2025-12-01T00:00:00.005Z; 7.8125 ms; a quote and bytes that are not UTF-8.
    log.Log(Request("/a\"b\xff"), res, 0.0078125, 1764547200005);
    res.status = 200;
    res.route = "/healthz";
    log.Log(Request("/healthz"), res, 0.5, 1764547261999);
    log.Log(Request("/healthz"), res, 12.000001, 1764547262000);
  });
  EXPECT_EQ(text,
            "{\"time\":\"2025-12-01T00:00:00.005Z\",\"method\":\"GET\",\"path\":\"/a\\\"b\\ufffd\","
            "\"route\":\"(unmatched)\",\"status\":404,\"latency_ms\":7.812,\"remote\":\"127.0.0.1\"}\n"
            "{\"time\":\"2025-12-01T00:01:01.999Z\",\"method\":\"GET\",\"path\":\"/healthz\","
            "\"route\":\"/healthz\",\"status\":200,\"latency_ms\":500.000,\"remote\":\"127.0.0.1\"}\n"
            "{\"time\":\"2025-12-01T00:01:02.000Z\",\"method\":\"GET\",\"path\":\"/healthz\","
            "\"route\":\"/healthz\",\"status\":200,\"latency_ms\":12000.001,\"remote\":\"127.0.0.1\"}\n");
}

TEST(AccessLog, ABufferPast64KiBIsWrittenBeforeThePeriodEnds) {
  char path[] = "/tmp/keyward-access-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  std::FILE* out = fdopen(fd, "w");
  Metrics metrics;
  {
    // A period no test waits for: only the size can make the writer write.
    AccessLog log(out, 1 << 20, metrics, std::chrono::hours(1));
    HttpResponse res;
    res.route = "/healthz";
    const std::string line_path = "/healthz/" + std::string(200, 'p');
    int lines = 0;
    for (std::size_t logged = 0; logged < 80 * 1024; logged += line_path.size()) {
      log.Log(Request(line_path), res, 0.001, 0);
      ++lines;
    }
    std::uintmax_t size = 0;
    for (int i = 0; i < 1000 && size == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      size = std::filesystem::file_size(path);
    }
    EXPECT_GE(size, 64u * 1024) << "nothing written before Stop()";
    log.Stop();
    std::fclose(out);
    std::FILE* in = std::fopen(path, "r");
    int newlines = 0;
    for (int c; (c = std::fgetc(in)) != EOF;) newlines += c == '\n';
    std::fclose(in);
    EXPECT_EQ(newlines, lines);
  }
  unlink(path);
}

}  // namespace
}  // namespace keyward::http
