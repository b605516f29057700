// job_store.cc: what every JobStore shares.
#include "store/job_store.h"

namespace keyward {

StatusOr<std::vector<bool>> JobStore::CommitJobs(const std::vector<NewJob>& inserts,
                                                 const std::vector<Job>& finished) {
  if (!finished.empty()) KW_RETURN_IF_ERROR(UpdateJobs(finished));
  return InsertJobs(inserts);
}

}  // namespace keyward
