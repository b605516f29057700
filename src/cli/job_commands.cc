// job_commands.cc: `keyward job enqueue|list|show` — the queue for operators
// and for back ends that hold a user id rather than a key.
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/output.h"
#include "core/time_format.h"
#include "jobs/queue.h"
#include "json/parse.h"

namespace keyward::cli {
namespace {

using nlohmann::json;

json EntryJson(const QueueEntry& e) {
  auto opt = [](const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); };
  return {{"id", e.id}, {"user_id", e.user_id}, {"environment", EnvironmentName(e.environment)},
          {"job_id", e.job_id}, {"task", e.task}, {"payload", jsonio::ParseStoredJson(e.payload)},
          {"status", e.status}, {"attempts", e.attempts}, {"max_attempts", e.max_attempts},
          {"last_error", opt(e.last_error)}, {"result_job_id", opt(e.result_job_id)},
          {"scoped_key_id", opt(e.scoped_key_id)}, {"lease_owner", opt(e.lease_owner)},
          {"created_at", core::FormatRfc3339(e.created_at)},
          {"updated_at", core::FormatRfc3339(e.updated_at)}};
}

struct JobArgs {
  std::string user, task, payload = "{}", job_id, status, id;
  bool test = false;
  int limit = 100;
};

int RunEnqueue(Cli& cli, const JobArgs& a) {
  jsonio::ParsedJson parsed = jsonio::ParseJson(a.payload);
  if (!parsed.ok() || !parsed.value.is_object()) {
    std::cerr << "keyward: --payload must be a JSON object"
              << (parsed.ok() ? "" : ": " + parsed.message) << "\n";
    return kExitUsage;
  }
  const json& payload = parsed.value;
  auth::KeyService* keys = cli.service();
  const jobs::Sealer* sealer = keys ? cli.sealer() : nullptr;
  if (!sealer) return kExitStorage;
  jobs::TaskRegistry tasks = jobs::TaskRegistry::BuiltIn();
  jobs::JobQueue queue(*cli.store(), cli.clock(), *sealer, tasks, *keys);
  StatusOr<jobs::EnqueueResult> r = queue.EnqueueForUser(
      a.user, a.test ? Environment::kTest : Environment::kLive, a.job_id, a.task, payload);
  if (!r.ok()) return cli.Fail(r.status());
  if (cli.json) {
    cli.PrintJson({{"entry", EntryJson(r->entry)}, {"created", r->created}});
  } else {
    std::cout << (r->created ? "Queued " : "Already queued: ") << r->entry.id << " (job_id "
              << r->entry.job_id << ", " << EnvironmentName(r->entry.environment) << ", user "
              << r->entry.user_id << ")\n";
  }
  return kExitOk;
}

int RunList(Cli& cli, const JobArgs& a) {
  Store* st = cli.store();
  if (!st) return kExitStorage;
  StatusOr<std::vector<QueueEntry>> entries = st->ListQueue(a.user, a.status, a.limit);
  if (!entries.ok()) return cli.Fail(entries.status());
  if (cli.json) {
    json arr = json::array();
    for (const auto& e : *entries) arr.push_back(EntryJson(e));
    cli.PrintJson({{"entries", arr}});
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : *entries) {
    rows.push_back({e.id, e.user_id, std::string(EnvironmentName(e.environment)), e.job_id, e.task,
                    e.status, std::to_string(e.attempts), e.last_error.value_or("-")});
  }
  std::cout << RenderTable({"ID", "USER", "ENV", "JOB_ID", "TASK", "STATUS", "ATTEMPTS", "LAST_ERROR"}, rows);
  return kExitOk;
}

}  // namespace

void AddJobCommands(CLI::App& app, Cli& cli) {
  CLI::App* job = app.add_subcommand("job", "Queue jobs for workers and inspect the queue");
  job->require_subcommand(1);
  auto a = std::make_shared<JobArgs>();

  CLI::App* enqueue = job->add_subcommand(
      "enqueue", "Queue a job for a user; a key scoped to this job is issued and sealed with it");
  enqueue->add_option("--user", a->user, "usr_… id")->required();
  enqueue->add_flag("--test", a->test, "Run it in the test environment");
  enqueue->add_option("--task", a->task, "echo | wordcount | sha256")->required();
  enqueue->add_option("--payload", a->payload, "JSON object (default {})");
  enqueue->add_option("--job-id", a->job_id, "Idempotency key (default: generated)");
  enqueue->callback([&cli, a] { cli.action = [&cli, a] { return RunEnqueue(cli, *a); }; });

  CLI::App* list = job->add_subcommand("list", "List queue entries, newest first");
  list->add_option("--user", a->user, "Only this user's entries");
  list->add_option("--status", a->status, "queued | claimed | done | failed | dead")
      ->check(CLI::IsMember({"queued", "claimed", "done", "failed", "dead"}));
  list->add_option("--limit", a->limit, "At most this many (default 100)")->check(CLI::Range(1, 100000));
  list->callback([&cli, a] { cli.action = [&cli, a] { return RunList(cli, *a); }; });

  CLI::App* show = job->add_subcommand("show", "Show one queue entry");
  show->add_option("ID", a->id, "qen_… id")->required();
  show->callback([&cli, a] {
    cli.action = [&cli, a] {
      Store* st = cli.store();
      if (!st) return int{kExitStorage};
      StatusOr<QueueEntry> e = st->GetQueueEntry(a->id);
      if (!e.ok()) return cli.Fail(e.status());
      std::cout << EntryJson(*e).dump(cli.json ? -1 : 2) << "\n";
      return int{kExitOk};
    };
  });
}

}  // namespace keyward::cli
