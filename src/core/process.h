// process.h: keeping a process's secrets out of places they leak from —
// core dumps and the environment other processes can read — and its threads'
// names and scheduling.
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

// How much lower than the rest of the process its background threads run
// (0, the default: as the rest). Set once, before those threads start.
void SetBackgroundNice(int nice);

// Names the calling thread and makes it a background thread: with a
// background niceness set, the thread runs as SCHED_BATCH (it does not
// preempt others when it wakes) and that much nicer than it was. The
// threads that answer requests (the I/O threads, the request pool) do not
// call it; the others do: group commits, compute jobs, checkpoints, the log
// writer, cache upkeep. Under CPU contention requests then go first; batch
// work waits and grows its batches.
void BackgroundThread(const char* name);

}  // namespace keyward::core
