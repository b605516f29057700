// process.cc: core dump and environment hygiene for secrets.
#include "core/process.h"

#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>

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

}  // namespace keyward::core
