// queue_store.h: the durable job queue — entries waiting for a worker, their
// leases and outcomes — and the QueueStore that persists them.
// Implementations are thread-safe; errors as in keyward/store.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keyward/store.h"

namespace keyward {

enum class QueueStatus { kQueued, kClaimed, kDone, kFailed, kDead };

// "queued", "claimed", "done", "failed", "dead".
std::string_view QueueStatusName(QueueStatus status);
std::optional<QueueStatus> ParseQueueStatus(std::string_view name);
// done, failed and dead are final: the entry will not run again.
inline bool IsFinal(QueueStatus s) {
  return s == QueueStatus::kDone || s == QueueStatus::kFailed || s == QueueStatus::kDead;
}

struct QueueEntry {
  std::string id;  // "qen_…"
  std::string user_id;
  Environment environment = Environment::kLive;
  std::string job_id;  // the idempotency key the worker submits with
  std::string task;
  std::string payload;  // JSON text; empty in listings
  // The API key the worker presents, sealed (AES-256-GCM). Held only while
  // the entry is in flight: the store clears it when the entry is final.
  std::optional<std::string> sealed_key;
  // The fingerprint of the seal key `sealed_key` was sealed under (empty for
  // entries sealed before fingerprints were recorded).
  std::string seal_key;
  std::optional<std::string> scoped_key_id;  // a key issued for this entry alone
  QueueStatus status = QueueStatus::kQueued;
  int attempts = 0;  // claims so far
  int max_attempts = 5;
  std::optional<std::string> lease_owner;
  std::optional<UnixMillis> lease_expires_at;
  UnixMillis available_at = 0;  // not claimable before (retry backoff)
  std::optional<std::string> last_error;
  std::optional<std::string> result_job_id;  // the compute job's id
  UnixMillis created_at = 0;
  UnixMillis updated_at = 0;
};

struct QueueFilter {
  std::string user_id;                     // empty: every user
  std::optional<QueueStatus> status;       // nullopt: every status
  std::optional<Environment> environment;  // nullopt: both
};

class QueueStore {
 public:
  virtual ~QueueStore() = default;

  // Inserts the entries in one transaction, each with two checks: its user
  // has fewer than `max_unfinished_per_user` unfinished entries (else
  // kResourceExhausted), and its seal_key is the seal key recorded for the
  // queue (else kFailedPrecondition: the key was rotated or differs).
  // kAlreadyExists if (user_id, environment, job_id) is queued already;
  // kNotFound if the user does not exist. One Status per entry, in order:
  // an entry refused leaves the others in; if the transaction itself fails,
  // every entry gets that failure and none is stored.
  virtual std::vector<Status> EnqueueMany(const std::vector<QueueEntry>& entries,
                                          int max_unfinished_per_user) = 0;
  Status Enqueue(const QueueEntry& entry, int max_unfinished_per_user) {
    return EnqueueMany({entry}, max_unfinished_per_user).at(0);
  }
  // kNotFound.
  virtual StatusOr<QueueEntry> GetQueueEntry(const std::string& id) = 0;
  // kNotFound.
  virtual StatusOr<QueueEntry> FindQueueEntry(const std::string& user_id, Environment env,
                                              const std::string& job_id) = 0;
  // Newest first, without payloads, one page.
  virtual StatusOr<Page<QueueEntry>> ListQueue(const QueueFilter& filter,
                                               const PageRequest& page) = 0;
  // Atomically claims up to `limit` entries sealed under `seal_key` (or
  // sealed before fingerprints existed) that are queued and available, or
  // claimed under a lease that has expired (a crashed worker's): sets status
  // claimed, the lease (worker, now + lease_ms) and attempts + 1.
  virtual StatusOr<std::vector<QueueEntry>> ClaimQueue(const std::string& worker,
                                                       const std::string& seal_key, UnixMillis now,
                                                       std::int64_t lease_ms, int limit) = 0;
  // Records the outcome of a claim: status, attempts, available_at,
  // last_error, result_job_id; the lease is cleared. When the status is
  // final, the sealed credential is erased and the entry's job-scoped key
  // (if any) revoked at `now`, in the same transaction. kFailedPrecondition
  // if `worker` no longer holds the lease (it expired and was claimed again).
  // Many outcomes commit in one transaction, one Status per entry as for
  // EnqueueMany().
  virtual std::vector<Status> FinishClaims(const std::vector<QueueEntry>& entries,
                                           const std::string& worker, UnixMillis now) = 0;
  Status FinishClaim(const QueueEntry& entry, const std::string& worker, UnixMillis now) {
    return FinishClaims({entry}, worker, now).at(0);
  }
  // Entries still queued or claimed (waiting, backing off, or in flight);
  // with a user id, that user's only.
  virtual StatusOr<std::int64_t> CountUnfinished(const std::string& user_id = "") = 0;

  // --- the seal key ------------------------------------------------------------
  // The fingerprint of the seal key the queue's credentials are sealed
  // under. When none is recorded yet, records `fingerprint` (unless it is
  // empty) and returns it; "" means none is recorded.
  virtual StatusOr<std::string> AdoptSealKey(const std::string& fingerprint) = 0;
  // Every in-flight (queued or claimed) entry, with its sealed credential.
  virtual StatusOr<std::vector<QueueEntry>> ListInFlight() = 0;
  // Moves the queue to another seal key in one transaction, if the recorded
  // key is still `old_key` (else kFailedPrecondition): writes each re-sealed
  // credential (entry id, sealed value) under `new_key`, makes each entry of
  // `abandoned` dead (its credential could not be opened; its job key is
  // revoked), replaces each key's signing secret in `signing_secrets` (key
  // id, sealed under `new_key`; an empty value forgets a secret that could
  // not be opened, to be derived again at the key's next bearer use), and
  // records `new_key`. All in one transaction.
  virtual Status ReplaceSealKey(const std::string& old_key, const std::string& new_key,
                                const std::vector<std::pair<std::string, std::string>>& resealed,
                                const std::vector<std::string>& abandoned,
                                const std::vector<std::pair<std::string, std::string>>& signing_secrets,
                                UnixMillis now) = 0;
};

}  // namespace keyward
