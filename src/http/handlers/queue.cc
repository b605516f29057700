// queue.cc: POST /v1/queue/jobs — a back end hands a user's job to the
// durable queue with that user's own key; a worker will present the same
// key — and GET /v1/queue/jobs[/{id}], the caller's own entries.
#include "api/wire.h"
#include "core/ids.h"
#include "http/error_mapping.h"
#include "http/handlers/route.h"
#include "http/router.h"

namespace keyward::http {
namespace {

using nlohmann::json;

HttpResponse EnqueueAnswer(const std::string& job_id, const StatusOr<queue::EnqueueResult>& r) {
  if (!r.ok()) return StatusResponse(r.status());
  using Kind = queue::EnqueueResult::Kind;
  switch (r->kind) {
    case Kind::kUserBusy:
      return RetryLaterResponse(429, "TOO_MANY_PENDING",
                                "this user has too many unfinished queue entries; retry later", 1000);
    case Kind::kConflict:
      return ErrorResponse(409, "JOB_ID_CONFLICT",
                           "job_id '" + job_id + "' was queued before with another task or "
                           "payload; use a new job_id for a different job");
    case Kind::kCreated:
    case Kind::kExisting:
      break;
  }
  HttpResponse res = JsonResponse(r->kind == Kind::kCreated ? 201 : 200,
                                  {{"entry", api::QueueEntryJson(r->entry, api::EntryView::kCaller)}});
  res.SetHeader("Location", "/v1/queue/jobs/" + r->entry.id);
  return res;
}

// The caller's bearer key, sealed into its entry; empty for a signed
// request, whose entry gets a key of its own.
std::string_view BearerKey(const Exchange& ex) {
  bool malformed = false;
  return ApiKeyFromHeader(ex.request, &malformed);
}

// Answers through `reply` once the entry is committed (group commit).
void Enqueue(ServiceContext& ctx, Exchange& ex, const json& body, Reply& reply) {
  auto answer = IdentifiedSender(ex, reply);
  StatusOr<compute::JobRequest> request = compute::ReadJobRequest(body, ctx.service.tasks());
  if (!request.ok()) return answer(StatusResponse(request.status()));
  std::string_view key = BearerKey(ex);
  if (key.empty()) {
    // A signed request: no key to seal. The job gets a key of its own, which
    // must sign too (the worker signs with it), so no plaintext of the
    // caller's is stored or sent.
    const Principal& p = *ex.caller->verification.principal;
    return answer(EnqueueAnswer(request->job_id, ctx.service.queue().EnqueueForUser(
                                                     p.user_id, p.environment, *request,
                                                     /*require_signature=*/true)));
  }
  ctx.service.queue().EnqueueWithKeyAsync(
      *ex.caller->verification.principal, key, *request,
      [answer, job_id = request->job_id](StatusOr<queue::EnqueueResult> r) {
        answer(EnqueueAnswer(job_id, r));
      });
}

HttpResponse Get(ServiceContext& ctx, Exchange& ex) {
  const Principal& p = *ex.caller->verification.principal;
  const std::string& id = ex.params[0];
  QueueStore& q = ctx.service.backend().queue();
  StatusOr<QueueEntry> e = core::IsValidId(id, "qen") ? q.GetQueueEntry(id)
                                                      : q.FindQueueEntry(p.user_id, p.environment, id);
  // Another user's (or environment's) entry does not exist for this caller.
  if (e.ok() && (e->user_id != p.user_id || e->environment != p.environment)) {
    e = NotFoundError("queue entry " + id.substr(0, 64) + " does not exist");
  }
  if (!e.ok()) return StatusResponse(e.status());
  return JsonResponse(200, {{"entry", api::QueueEntryJson(*e, api::EntryView::kCaller)}});
}

HttpResponse List(ServiceContext& ctx, Exchange& ex) {
  StatusOr<PageRequest> page = ReadPage(ex.request);
  if (!page.ok()) return StatusResponse(page.status());
  const Principal& p = *ex.caller->verification.principal;
  StatusOr<Page<QueueEntry>> entries =
      ctx.service.backend().queue().ListQueue({p.user_id, std::nullopt, p.environment}, *page);
  if (!entries.ok()) return StatusResponse(entries.status());
  json arr = json::array();
  for (const QueueEntry& e : entries->items) arr.push_back(api::QueueEntryJson(e, api::EntryView::kCaller));
  return JsonResponse(200, api::PageJson("entries", std::move(arr), entries->next));
}

}  // namespace

void AddQueueRoutes(Router& router, ServiceContext& ctx) {
  RouteSpec enqueue;
  enqueue.access = Access::kApiKey;
  enqueue.gate.required_scopes = {"jobs:write"};
  enqueue.gate.require_credit = false;  // charged when the worker submits
  enqueue.body = BodyKind::kJson;
  enqueue.respond_later = [&ctx](Exchange& ex, json b, Reply& reply) { Enqueue(ctx, ex, b, reply); };
  // A bearer key is sealed and queued; a signed request's entry gets a key
  // of its own, issued in a write transaction of its own (request pool).
  enqueue.queues_its_write = [](const Exchange& ex) { return !BearerKey(ex).empty(); };
  router.Add("POST", "/v1/queue/jobs", "enqueueJob", MakeRoute(ctx, std::move(enqueue)));

  RouteSpec list;
  list.access = Access::kApiKey;
  list.gate.required_scopes = {"jobs:read"};
  list.gate.require_credit = false;
  list.query = {"limit", "after"};
  list.respond = [&ctx](Exchange& ex, const json&) { return List(ctx, ex); };
  router.Add("GET", "/v1/queue/jobs", "listQueueEntries", MakeRoute(ctx, std::move(list)));

  RouteSpec get;
  get.access = Access::kApiKey;
  get.gate.required_scopes = {"jobs:read"};
  get.gate.require_credit = false;
  get.respond = [&ctx](Exchange& ex, const json&) { return Get(ctx, ex); };
  router.Add("GET", "/v1/queue/jobs/{id}", "getQueueEntry", MakeRoute(ctx, std::move(get)));
}

}  // namespace keyward::http
