// process.cc: core dump and environment hygiene for secrets.
#include "core/process.h"

#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace keyward::core {

Status DisableCoreDumps() {
  rlimit none{0, 0};
  if (setrlimit(RLIMIT_CORE, &none) != 0) {
    return InternalError(std::string("cannot disable core dumps: ") + std::strerror(errno));
  }
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return InternalError(std::string("cannot make the process non-dumpable: ") + std::strerror(errno));
  }
  return OkStatus();
}

std::string TakeSecretFromEnvironment(const char* name) {
  char* value = std::getenv(name);
  if (!value) return "";
  std::string copy(value);
  // "NAME=value" lives in the environment block that /proc/<pid>/environ
  // shows: drop the variable, then wipe the whole entry where it was.
  char* entry = value - std::strlen(name) - 1;
  std::size_t length = std::strlen(entry);
  unsetenv(name);
  std::memset(entry, 0, length);
  return copy;
}

void NameThread(const char* name) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%s", name);
  pthread_setname_np(pthread_self(), buf);
}

namespace {
std::atomic<int> background_nice{0};
}  // namespace

void SetBackgroundNice(int nice) { background_nice.store(std::clamp(nice, 0, 19)); }

void BackgroundThread(const char* name) {
  NameThread(name);
  const int nice = background_nice.load();
  if (nice == 0) return;
  // Both are hints: a refusal leaves the thread as it was. Neither needs a
  // privilege (SCHED_BATCH at priority 0; a niceness raised, never lowered).
  sched_param param{};
  param.sched_priority = 0;
  pthread_setschedparam(pthread_self(), SCHED_BATCH, &param);
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  errno = 0;
  const int now = getpriority(PRIO_PROCESS, tid);
  if (errno == 0) setpriority(PRIO_PROCESS, tid, std::min(19, now + nice));
}

}  // namespace keyward::core
