// server_process.h: runs `keyward serve` on port 0 for a test and always
// stops it again (SIGTERM, then SIGKILL), also when the test fails.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace keyward::testing {

inline constexpr const char* kAdminToken = "test-admin-token-0123456789";

class ServerProcess {
 public:
  // Starts keyward serve on `db` with the admin token set; extra args and
  // "K=V" environment entries are appended.
  ServerProcess(const std::string& db, const std::string& log_path,
                std::vector<std::string> extra_args = {}, std::vector<std::string> env = {});
  ~ServerProcess();

  bool started() const { return !address_.empty(); }
  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }
  // SIGTERM and wait; returns the exit code (128+signal if killed).
  int Stop();
  // SIGKILL and wait.
  void Kill();
  // Everything the server wrote to stdout (the access log) so far.
  std::string Output() const;
  std::string Errors() const;

 private:
  pid_t pid_ = -1;
  std::string address_;
  std::string out_path_, err_path_;
};

// The Authorization header for the admin API.
std::pair<std::string, std::string> AdminAuth();
std::pair<std::string, std::string> KeyAuth(const std::string& key);

}  // namespace keyward::testing
