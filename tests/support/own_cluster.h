// own_cluster.h: a PostgreSQL cluster of a test's own (tests/support/
// pg-cluster), for tests that stop it, restart it or configure it; stopped
// and removed when the object goes, however the test ends.
#pragma once

#include <fstream>
#include <string>
#include <vector>

#include "support/subprocess.h"

namespace keyward::testing {

class OwnCluster {
 public:
  // `env`: "K=V" entries for pg-cluster (e.g. PG_CLUSTER_TLS=DIR).
  explicit OwnCluster(std::string state, std::vector<std::string> env = {})
      : state_(std::move(state)), env_(std::move(env)) {}
  ~OwnCluster() { Script("stop"); }
  OwnCluster(const OwnCluster&) = delete;
  OwnCluster& operator=(const OwnCluster&) = delete;

  RunResult Script(const std::string& cmd) { return Run({KW_PG_CLUSTER, cmd, state_}, "", env_); }
  // The server's URI, without a database: postgresql://keyward@127.0.0.1:PORT
  std::string Server() const {
    std::ifstream in(state_);
    std::string line, uri;
    while (std::getline(in, line)) {
      if (line.rfind("postgresql://", 0) == 0) uri = line;
    }
    return uri;
  }

 private:
  std::string state_;
  std::vector<std::string> env_;
};

}  // namespace keyward::testing
