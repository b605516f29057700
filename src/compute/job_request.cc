// job_request.cc: job request parsing and validation.
#include "compute/job_request.h"

namespace keyward::compute {

using nlohmann::json;

Status ValidateJobId(const std::string& job_id) {
  if (job_id.empty() || job_id.size() > 128) {
    return InvalidArgumentError("job_id must be 1 to 128 characters");
  }
  for (unsigned char c : job_id) {
    if (c < 0x21 || c > 0x7e) return InvalidArgumentError("job_id must be printable ASCII without spaces");
  }
  return OkStatus();
}

Status ValidateJobRequest(const JobRequest& request, const TaskRegistry& tasks) {
  KW_RETURN_IF_ERROR(ValidateJobId(request.job_id));
  const Task* task = tasks.Find(request.task);
  if (!task) {
    return InvalidArgumentError("unknown task '" + request.task.substr(0, 64) +
                                "' (tasks: echo, wordcount, sha256)");
  }
  if (!request.payload.is_object()) return InvalidArgumentError("\"payload\" must be a JSON object");
  return task->validate(request.payload);
}

StatusOr<JobRequest> ReadJobRequest(const json& body, const TaskRegistry& tasks) {
  if (!body.is_object()) return InvalidArgumentError("request body must be a JSON object");
  JobRequest r;
  bool has_job_id = false, has_task = false;
  for (const auto& [k, v] : body.items()) {
    if (k == "job_id") {
      if (!v.is_string()) return InvalidArgumentError("\"job_id\" must be a string");
      r.job_id = v.get<std::string>();
      has_job_id = true;
    } else if (k == "task") {
      if (!v.is_string()) return InvalidArgumentError("\"task\" must be a string");
      r.task = v.get<std::string>();
      has_task = true;
    } else if (k == "payload") {
      if (!v.is_object()) return InvalidArgumentError("\"payload\" must be a JSON object");
      r.payload = v;
    } else {
      return InvalidArgumentError("unknown field \"" + k.substr(0, 64) + "\"");
    }
  }
  if (!has_job_id) return InvalidArgumentError("\"job_id\" is required");
  if (!has_task) return InvalidArgumentError("\"task\" is required");
  KW_RETURN_IF_ERROR(ValidateJobRequest(r, tasks));
  return r;
}

}  // namespace keyward::compute
