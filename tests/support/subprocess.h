// subprocess.h: run a program (the built keyward binary) and collect its exit
// code, stdout and stderr; or start one in the background and stop it by PID.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace keyward::testing {

struct RunResult {
  int exit_code = -1;  // 128+signal if killed by a signal
  std::string out;
  std::string err;
};

// Runs argv[0] (a path) with `args`, feeding `input` on stdin. Extra
// environment entries "K=V" are added to the current environment.
RunResult Run(const std::vector<std::string>& argv, const std::string& input = "",
              const std::vector<std::string>& env = {});

// Path of the keyward binary under test: KEYWARD_BIN (which CTest sets),
// else the one the build put beside the tests' folder.
std::string KeywardBinary();

}  // namespace keyward::testing
