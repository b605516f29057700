// context.cc: body parsing, admin and API-key authentication helpers.
#include "http/handlers/context.h"

#include <strings.h>

#include <charconv>

#include "core/crypto.h"
#include "core/http_signature.h"
#include "core/time_format.h"
#include "http/error_mapping.h"
#include "json/parse.h"

namespace keyward::http {

std::optional<HttpResponse> ParseJsonObject(const HttpRequest& req, nlohmann::json* out) {
  if (req.body.empty()) {
    return ErrorResponse(400, "INVALID_ARGUMENT", "request body must be a JSON object");
  }
  jsonio::ParsedJson parsed = jsonio::ParseJson(req.body);
  switch (parsed.problem) {
    case jsonio::JsonProblem::kNone: break;
    case jsonio::JsonProblem::kSyntax:
      return ErrorResponse(400, "INVALID_JSON", "request body is " + parsed.message);
    case jsonio::JsonProblem::kTooLarge:
      return ErrorResponse(413, "BODY_TOO_LARGE", "request body: " + parsed.message);
    case jsonio::JsonProblem::kTooDeep:
    case jsonio::JsonProblem::kDuplicateKey:
      return ErrorResponse(400, "INVALID_ARGUMENT", "request body: " + parsed.message);
  }
  *out = std::move(parsed.value);
  if (!out->is_object()) {
    return ErrorResponse(400, "INVALID_ARGUMENT", "request body must be a JSON object");
  }
  return std::nullopt;
}

std::optional<HttpResponse> RequireAdmin(const ServiceContext& ctx, const HttpRequest& req) {
  HttpResponse denied;
  if (ctx.admin_token.empty()) {
    denied = ErrorResponse(401, "ADMIN_DISABLED",
                           "the admin API is not configured: set KEYWARD_ADMIN_TOKEN or admin_token");
  } else {
    const std::string* auth = req.Header("authorization");
    bool ok = false;
    if (auth && req.HeaderCount("authorization") == 1 && auth->size() > 7 &&
        strncasecmp(auth->c_str(), "bearer ", 7) == 0) {
      // Compare digests so the comparison is constant-time whatever the length.
      core::Sha256Digest given = core::Sha256(std::string_view(*auth).substr(7));
      core::Sha256Digest want = core::Sha256(ctx.admin_token);
      ok = core::ConstantTimeEqual(given.data(), want.data(), given.size());
    }
    if (ok) return std::nullopt;
    denied = ErrorResponse(401, "UNAUTHENTICATED", "a valid admin token is required (Authorization: Bearer <token>)");
  }
  denied.SetHeader("WWW-Authenticate", "Bearer");
  return denied;
}

std::string_view ApiKeyFromHeader(const HttpRequest& req, bool* malformed) {
  *malformed = false;
  int n = req.HeaderCount("authorization");
  if (n == 0) return {};
  const std::string& v = *req.Header("authorization");
  if (n > 1) {
    *malformed = true;
    return {};
  }
  std::string_view s = v;
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.empty()) return {};
  if (s.size() < 8 || strncasecmp(s.data(), "api-key ", 8) != 0) {
    *malformed = true;
    return {};
  }
  s.remove_prefix(8);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  if (s.empty()) *malformed = true;
  return s;
}

void SetLogIdentity(HttpResponse& res, const metering::GateResult& result) {
  const auto& rec = result.verification.record;
  if (!rec) return;
  res.identity = rec;
}

std::function<void(HttpResponse)> IdentifiedSender(Exchange& ex, Reply& reply) {
  return [&ex, &reply](HttpResponse res) {
    if (ex.caller) SetLogIdentity(res, *ex.caller);
    reply.Send(std::move(res));
  };
}

namespace {

// Forwarded by a front (nginx auth_request, Envoy ext_authz): the original
// request's method and absolute URI, and its Content-Length, in headers the
// front sets and strips from clients. /v1/authz reads a signature over them.
constexpr std::string_view kOriginalMethod = "x-keyward-original-method";
constexpr std::string_view kOriginalUri = "x-keyward-original-uri";
constexpr std::string_view kOriginalLength = "x-keyward-original-length";

bool NonZero(const std::string* v) { return v && !v->empty() && *v != "0"; }

// The message a signature covers: the request itself, or the one a front
// forwarded. kInvalidArgument (a sentence for the client) when it cannot
// be had.
Status SignedMessage(const HttpRequest& req, bool forwarded, core::httpsig::Message* msg, bool* has_body) {
  msg->headers = &req.headers;
  if (forwarded) {
    if (req.HeaderCount(kOriginalMethod) != 1 || req.HeaderCount(kOriginalUri) != 1) {
      return InvalidArgumentError(
          "a signed request through /v1/authz needs the front to forward exactly one "
          "X-Keyward-Original-Method and X-Keyward-Original-Uri (see docs/operations.md)");
    }
    msg->method = *req.Header(kOriginalMethod);
    KW_RETURN_IF_ERROR(core::httpsig::SplitTargetUri(*req.Header(kOriginalUri), msg));
    *has_body = NonZero(req.Header(kOriginalLength)) || req.HeaderCount("content-digest") > 0;
    return OkStatus();
  }
  if (req.HeaderCount("host") != 1) return InvalidArgumentError("a signed request needs exactly one Host header");
  msg->method = req.method;
  msg->scheme = req.tls ? "https" : "http";
  msg->authority = *req.Header("host");
  msg->path = req.path;
  msg->query = req.query;
  *has_body = NonZero(req.Header("content-length")) || req.HeaderCount("transfer-encoding") > 0;
  return OkStatus();
}

HttpResponse SignatureRefused(ServiceContext& ctx, std::string_view why) {
  ctx.metrics.ObserveOutcome(VerifyOutcome::kSignatureInvalid);
  return OutcomeResponse(VerifyOutcome::kSignatureInvalid, 0, why);
}

}  // namespace

std::optional<HttpResponse> Authenticate(ServiceContext& ctx, Exchange& ex, metering::GateRequest gate_request,
                                         bool forwarded_target, metering::GateResult* result) {
  const HttpRequest& req = ex.request;
  bool malformed = false;
  gate_request.key = ApiKeyFromHeader(req, &malformed);
  if (malformed) {
    ctx.metrics.ObserveOutcome(VerifyOutcome::kMalformed);
    HttpResponse r = OutcomeResponse(VerifyOutcome::kMalformed, 0);
    return r;
  }
  // No bearer key: a signed request (RFC 9421), when it carries a signature.
  core::httpsig::ReceivedSignature sig;
  SignedRequest signed_request;
  if (gate_request.key.empty() && core::httpsig::HasSignatureHeaders(req.headers)) {
    core::httpsig::Message msg;
    bool has_body = false;
    if (Status st = SignedMessage(req, forwarded_target, &msg, &has_body); !st.ok()) {
      return SignatureRefused(ctx, st.message());
    }
    StatusOr<core::httpsig::ReceivedSignature> read = core::httpsig::ReadSignature(msg, has_body);
    if (!read.ok()) return SignatureRefused(ctx, read.status().message());
    sig = std::move(read).value();
    signed_request = SignedRequest{sig.key_id, sig.created, sig.expires, sig.nonce, sig.signature, sig.base};
    gate_request.signed_request = &signed_request;
    // A body the route reads must be the one the signature's digest names.
    ex.check_content_digest = !forwarded_target && sig.covers_content_digest;
  }
  StatusOr<metering::GateResult> g = ctx.service.gate().Check(gate_request);
  if (!g.ok()) {
    HttpResponse r = g.status().code() == StatusCode::kUnavailable
                         ? RetryLaterResponse(503, "UNAVAILABLE", g.status().message(), 1000)
                         : StatusResponse(g.status());
    r.log_outcome = "UNAVAILABLE";
    return r;
  }
  *result = std::move(g).value();
  ctx.metrics.ObserveOutcome(result->verification.outcome);
  if (result->verification.valid()) return std::nullopt;
  HttpResponse r = OutcomeResponse(result->verification.outcome, result->retry_after_ms,
                                   result->verification.detail);
  SetLogIdentity(r, *result);
  return r;
}

std::optional<HttpResponse> CheckContentDigest(const Exchange& ex) {
  if (!ex.check_content_digest) return std::nullopt;
  const std::string field = core::httpsig::JoinedField(ex.request.headers, "content-digest").value_or("");
  StatusOr<bool> matches = core::httpsig::ContentDigestMatches(field, ex.request.body);
  if (matches.ok() && *matches) return std::nullopt;
  return OutcomeResponse(VerifyOutcome::kSignatureInvalid, 0,
                         matches.ok() ? "the body does not match its Content-Digest" : matches.status().message());
}

Status OptionalString(const nlohmann::json& body, const char* field, std::optional<std::string>* out) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return OkStatus();
  if (!it->is_string()) return InvalidArgumentError(std::string("\"") + field + "\" must be a string");
  *out = it->get<std::string>();
  return OkStatus();
}

Status OptionalInt(const nlohmann::json& body, const char* field, std::optional<std::int64_t>* out) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return OkStatus();
  if (!it->is_number_integer()) {
    return InvalidArgumentError(std::string("\"") + field + "\" must be an integer");
  }
  *out = it->get<std::int64_t>();
  return OkStatus();
}

Status OptionalBool(const nlohmann::json& body, const char* field, std::optional<bool>* out) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return OkStatus();
  if (!it->is_boolean()) return InvalidArgumentError(std::string("\"") + field + "\" must be a boolean");
  *out = it->get<bool>();
  return OkStatus();
}

Status OptionalDuration(const nlohmann::json& body, const char* field, std::int64_t max_ms,
                        std::optional<std::int64_t>* out_ms) {
  std::optional<std::string> text;
  KW_RETURN_IF_ERROR(OptionalString(body, field, &text));
  if (!text) return OkStatus();
  std::optional<std::int64_t> ms = core::ParseDuration(*text, max_ms);
  if (!ms) {
    return InvalidArgumentError(std::string("\"") + field + "\" must be a duration such as \"90s\", "
                                "\"24h\" or \"30d\", at most " + core::FormatDuration(max_ms));
  }
  *out_ms = ms;
  return OkStatus();
}

StatusOr<PageRequest> ReadPage(const HttpRequest& req) {
  PageRequest page;
  KW_ASSIGN_OR_RETURN(std::optional<std::string> limit, req.QueryParam("limit"));
  KW_ASSIGN_OR_RETURN(std::optional<std::string> after, req.QueryParam("after"));
  if (limit) {
    int v = 0;
    auto [end, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), v);
    if (limit->empty() || ec != std::errc() || end != limit->data() + limit->size() || v < 1 ||
        v > kMaxPageLimit) {
      return InvalidArgumentError("limit must be an integer from 1 to " + std::to_string(kMaxPageLimit));
    }
    page.limit = v;
  }
  if (after) page.after = *after;
  return page;
}

Status OptionalStringList(const nlohmann::json& body, const char* field,
                          std::optional<std::vector<std::string>>* out) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return OkStatus();
  Status bad = InvalidArgumentError(std::string("\"") + field + "\" must be an array of strings");
  if (!it->is_array() || it->size() > 100) return bad;
  std::vector<std::string> v;
  for (const auto& e : *it) {
    if (!e.is_string()) return bad;
    v.push_back(e.get<std::string>());
  }
  *out = std::move(v);
  return OkStatus();
}

Status OnlyFields(const nlohmann::json& body, std::initializer_list<const char*> allowed) {
  for (const auto& [k, v] : body.items()) {
    bool known = false;
    for (const char* a : allowed) known = known || k == a;
    if (!known) return InvalidArgumentError("unknown field \"" + k + "\"");
  }
  return OkStatus();
}

}  // namespace keyward::http
