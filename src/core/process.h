// process.h: keeping a process's secrets out of places they leak from —
// core dumps and the environment other processes can read.
#pragma once

#include <string>

#include "keyward/status.h"

namespace keyward::core {

// Makes the process non-dumpable (no core dump, no ptrace by other users'
// tools, /proc/self/environ unreadable to others): prctl(PR_SET_DUMPABLE, 0)
// and a zero core size limit.
Status DisableCoreDumps();

// The value of environment variable `name` ("" if unset), which is then
// overwritten in place and removed from the environment, so that neither
// /proc/<pid>/environ nor child processes see it.
std::string TakeSecretFromEnvironment(const char* name);

// Names the calling thread (first 15 bytes), as `top -H`, perf and gdb show it.
void NameThread(const char* name);

}  // namespace keyward::core
