// statuses.cc: names of job and queue-entry statuses, as stored and shown.
#include "store/job_store.h"
#include "store/queue_store.h"

namespace keyward {
namespace {

constexpr std::string_view kJobNames[] = {"queued", "running", "succeeded", "failed"};
constexpr std::string_view kQueueNames[] = {"queued", "claimed", "done", "failed", "dead"};

template <typename E, std::size_t N>
std::optional<E> Parse(const std::string_view (&names)[N], std::string_view name) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<E>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view JobStatusName(JobStatus s) { return kJobNames[static_cast<std::size_t>(s)]; }
std::optional<JobStatus> ParseJobStatus(std::string_view n) { return Parse<JobStatus>(kJobNames, n); }
std::string_view QueueStatusName(QueueStatus s) { return kQueueNames[static_cast<std::size_t>(s)]; }
std::optional<QueueStatus> ParseQueueStatus(std::string_view n) { return Parse<QueueStatus>(kQueueNames, n); }

static_assert(std::size(kJobNames) == static_cast<std::size_t>(JobStatus::kFailed) + 1);
static_assert(std::size(kQueueNames) == static_cast<std::size_t>(QueueStatus::kDead) + 1);

}  // namespace keyward
