// task_registry.h: the built-in compute tasks the reference compute API runs
// (echo, wordcount, sha256), each with a fixed cost in credits and a
// contract on its payload (a JSON object) and result.
// Tasks are pure functions of their JSON payload; the registry is immutable
// after construction and safe to share between threads.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "keyward/status.h"

namespace keyward::compute {

struct Task {
  std::string name;
  std::string description;
  std::int64_t cost = 1;
  // kInvalidArgument if the payload cannot be run (checked before charging).
  std::function<Status(const nlohmann::json& payload)> validate;
  // The result, or the reason the job failed.
  std::function<StatusOr<nlohmann::json>(const nlohmann::json& payload)> run;
};

class TaskRegistry {
 public:
  // A registry holding echo, wordcount and sha256.
  static TaskRegistry BuiltIn();

  void Add(Task task);
  // Null if there is no such task.
  const Task* Find(const std::string& name) const;
  const std::map<std::string, Task>& tasks() const { return tasks_; }

 private:
  std::map<std::string, Task> tasks_;
};

}  // namespace keyward::compute
