// server_process.cc: fork/exec of keyward serve, readiness from its first line.
#include "support/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "support/subprocess.h"
#include "support/temp_dir.h"

extern char** environ;

namespace keyward::testing {

std::pair<std::string, std::string> AdminAuth() {
  return {"Authorization", std::string("Bearer ") + kAdminToken};
}

std::pair<std::string, std::string> KeyAuth(const std::string& key) {
  return {"Authorization", "Api-Key " + key};
}

ServerProcess::ServerProcess(const std::string& db, const std::string& log_path,
                             std::vector<std::string> extra_args, std::vector<std::string> env)
    : out_path_(log_path), err_path_(log_path + ".err") {
  std::vector<std::string> args = {KeywardBinary(), "--db", db, "serve", "--threads", "2"};
  if (std::find(extra_args.begin(), extra_args.end(), "--listen") == extra_args.end()) {
    args.insert(args.end(), {"--listen", "127.0.0.1:0"});
  }
  for (auto& a : extra_args) args.push_back(std::move(a));
  // Later entries replace earlier ones with the same name.
  std::vector<std::string> envs;
  auto put = [&envs](std::string entry) {
    std::string name = entry.substr(0, entry.find('=') + 1);
    std::erase_if(envs, [&](const std::string& e) { return e.rfind(name, 0) == 0; });
    envs.push_back(std::move(entry));
  };
  for (char** e = environ; *e; ++e) put(*e);
  put(std::string("KEYWARD_ADMIN_TOKEN=") + kAdminToken);
  for (auto& e : env) put(std::move(e));
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);
  // Truncate here, before the child exists, so no earlier run's
  // "listening on" line can be mistaken for this one's.
  for (const std::string* path : {&out_path_, &err_path_}) close(open(path->c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600));
  pid_ = fork();
  if (pid_ == 0) {
    int out = open(out_path_.c_str(), O_WRONLY | O_APPEND);
    int err = open(err_path_.c_str(), O_WRONLY | O_APPEND);
    dup2(out, 1);
    dup2(err, 2);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  // Wait (bounded) for "listening on HOST:PORT" — readiness, not a fixed sleep.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string out = ReadFileBytes(out_path_);
    std::size_t nl = out.find('\n');
    if (nl != std::string::npos && out.rfind("listening on ", 0) == 0) {
      address_ = out.substr(13, nl - 13);
      return;
    }
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    int status;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
}

int ServerProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string ServerProcess::Output() const { return ReadFileBytes(out_path_); }
std::string ServerProcess::Errors() const { return ReadFileBytes(err_path_); }

}  // namespace keyward::testing
