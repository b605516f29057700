// job_commands.cc: `keyward job enqueue|list|show` — the queue for operators
// and for back ends that hold a user id rather than a key.
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "api/wire.h"
#include "cli/cli.h"
#include "cli/output.h"
#include "json/parse.h"
#include "queue/job_queue.h"

namespace keyward::cli {
namespace {

using nlohmann::json;

struct JobArgs {
  std::string user, task, payload = "{}", job_id, status, id;
  bool test = false;
  PageRequest page;
};

int RunEnqueue(Cli& cli, const JobArgs& a) {
  jsonio::ParsedJson parsed = jsonio::ParseJson(a.payload);
  if (!parsed.ok() || !parsed.value.is_object()) {
    std::cerr << "keyward: --payload must be a JSON object"
              << (parsed.ok() ? "" : ": " + parsed.message) << "\n";
    return kExitUsage;
  }
  auth::Accounts* accounts = cli.accounts();
  const core::Sealer* sealer = accounts ? cli.sealer() : nullptr;
  if (!sealer) return kExitStorage;
  compute::TaskRegistry tasks = compute::TaskRegistry::BuiltIn();
  queue::JobQueue q(cli.store()->queue(), cli.clock(), *sealer, tasks, *accounts);
  StatusOr<queue::EnqueueResult> r = q.EnqueueForUser(
      a.user, a.test ? Environment::kTest : Environment::kLive,
      compute::JobRequest{a.job_id, a.task, std::move(parsed.value)});
  if (!r.ok()) return cli.Fail(r.status());
  using Kind = queue::EnqueueResult::Kind;
  if (r->kind == Kind::kConflict) {
    return cli.Fail(AlreadyExistsError("job_id '" + r->entry.job_id +
                                       "' was queued before with another task or payload"));
  }
  if (r->kind == Kind::kUserBusy) {
    return cli.Fail(ResourceExhaustedError("user " + a.user + " has too many unfinished queue entries"));
  }
  const bool created = r->kind == Kind::kCreated;
  if (cli.json) {
    cli.PrintJson({{"entry", api::QueueEntryJson(r->entry, api::EntryView::kOperator)}, {"created", created}});
  } else {
    std::cout << (created ? "Queued " : "Already queued: ") << r->entry.id << " (job_id "
              << r->entry.job_id << ", " << EnvironmentName(r->entry.environment) << ", user "
              << r->entry.user_id << ")\n";
  }
  return kExitOk;
}

int RunList(Cli& cli, const JobArgs& a) {
  store::Backend* st = cli.store();
  if (!st) return kExitStorage;
  QueueFilter filter{a.user, a.status.empty() ? std::nullopt : ParseQueueStatus(a.status), std::nullopt};
  StatusOr<Page<QueueEntry>> entries = st->queue().ListQueue(filter, a.page);
  if (!entries.ok()) return cli.Fail(entries.status());
  if (cli.json) {
    json arr = json::array();
    for (const auto& e : entries->items) arr.push_back(api::QueueEntryJson(e, api::EntryView::kOperator));
    cli.PrintJson(api::PageJson("entries", std::move(arr), entries->next));
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : entries->items) {
    rows.push_back({e.id, e.user_id, std::string(EnvironmentName(e.environment)), e.job_id, e.task,
                    std::string(QueueStatusName(e.status)), std::to_string(e.attempts),
                    e.last_error.value_or("-")});
  }
  std::cout << RenderTable({"ID", "USER", "ENV", "JOB_ID", "TASK", "STATUS", "ATTEMPTS", "LAST_ERROR"}, rows)
            << NextPageHint(entries->next);
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
  AddPageOptions(list, &a->page);
  list->callback([&cli, a] { cli.action = [&cli, a] { return RunList(cli, *a); }; });

  CLI::App* show = job->add_subcommand("show", "Show one queue entry");
  show->add_option("ID", a->id, "qen_… id")->required();
  show->callback([&cli, a] {
    cli.action = [&cli, a] {
      store::Backend* st = cli.store();
      if (!st) return int{kExitStorage};
      StatusOr<QueueEntry> e = st->queue().GetQueueEntry(a->id);
      if (!e.ok()) return cli.Fail(e.status());
      json j = api::QueueEntryJson(*e, api::EntryView::kOperator);
      if (cli.json) cli.PrintJson({{"entry", j}});
      else std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
      return int{kExitOk};
    };
  });
}

}  // namespace keyward::cli
