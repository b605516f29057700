// change_follower.cc: poll, read, invalidate, prune.
#include "auth/change_follower.h"

#include <algorithm>

#include "core/process.h"

namespace keyward::auth {

ChangeFollower::ChangeFollower(ChangeFeed& feed, Verifier& verifier, const Clock& clock,
                               ChangeFollowerOptions options)
    : feed_(feed), verifier_(verifier), clock_(clock), options_(options) {}

ChangeFollower::~ChangeFollower() { Stop(); }

Status ChangeFollower::Start() {
  KW_ASSIGN_OR_RETURN(position_, feed_.LatestChange());
  feed_.MaybeChanged().status().IgnoreError();  // set the baseline
  last_prune_ = clock_.Now();
  thread_ = std::thread([this] {
    core::BackgroundThread("kw-changes");
    Loop();
  });
  return OkStatus();
}

void ChangeFollower::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ChangeFollower::Loop() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms), [&] { return stop_; })) {
    lock.unlock();
    Tick();
    lock.lock();
  }
}

void ChangeFollower::Tick() {
  const Status polled = PollOnce();
  if (polled.ok()) {
    failing_since_ = 0;
    dropped_ = false;
    return;
  }
  stats_.errors++;
  const UnixMillis now = clock_.Now();
  if (failing_since_ == 0) failing_since_ = now;
  if (now - failing_since_ < std::max(options_.outage_grace_ms, kOutageNoticeMs)) return;
  // Whatever was cached may have been revoked meanwhile. Dropped again after
  // every failed read: a lookup that reached the store between two reads
  // must not outlive the outage either.
  verifier_.InvalidateAll();
  if (!dropped_) stats_.outages++;
  dropped_ = true;
}

Status ChangeFollower::PollOnce() {
  const UnixMillis now = clock_.Now();
  if (now - last_prune_ >= options_.prune_every_ms) {
    last_prune_ = now;
    feed_.PruneChanges(now - options_.retention_ms).status().IgnoreError();
  }
  KW_ASSIGN_OR_RETURN(bool maybe, feed_.MaybeChanged());
  if (!maybe) return OkStatus();
  for (;;) {
    KW_ASSIGN_OR_RETURN(ChangeBatch batch, feed_.ReadChanges(position_, options_.batch));
    if (batch.gap) {
      verifier_.InvalidateAll();
      stats_.full_flushes++;
    }
    // One invalidation per batch: a burst of changes (a bulk revocation, the
    // signing secrets that keys issued before them learn at their first
    // use) must not turn away every lookup that is filling the cache.
    std::vector<std::string> users;
    users.reserve(batch.changes.size());
    for (const Change& c : batch.changes) users.push_back(c.user_id);
    verifier_.InvalidateUsers(std::move(users));
    stats_.changes += batch.changes.size();
    position_ = batch.last_seq;
    if (static_cast<int>(batch.changes.size()) < options_.batch) return OkStatus();
  }
}

}  // namespace keyward::auth
