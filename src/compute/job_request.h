// job_request.h: the one reading and validation of a job request
// {job_id, task, payload}, shared by the compute API, the queue (HTTP and
// CLI) and anything else that accepts a job.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "compute/task_registry.h"
#include "keyward/status.h"

namespace keyward::compute {

struct JobRequest {
  std::string job_id;  // the caller's idempotency key
  std::string task;
  nlohmann::json payload = nlohmann::json::object();  // always a JSON object

  // The payload as stored, and compared when a job_id is replayed.
  std::string PayloadText() const { return payload.dump(); }
};

// job_id: 1-128 bytes of printable ASCII without spaces.
Status ValidateJobId(const std::string& job_id);

// Checks a request built by a caller: job_id, a known task, a payload that
// is a JSON object the task accepts. kInvalidArgument naming the problem.
Status ValidateJobRequest(const JobRequest& request, const TaskRegistry& tasks);

// Reads a request body: exactly the fields job_id (required), task
// (required) and payload (an object; {} when absent), then validates it.
StatusOr<JobRequest> ReadJobRequest(const nlohmann::json& body, const TaskRegistry& tasks);

}  // namespace keyward::compute
