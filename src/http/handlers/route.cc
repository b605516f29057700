// route.cc: the Handler behind a RouteSpec.
#include "http/handlers/route.h"

#include "http/error_mapping.h"

namespace keyward::http {
namespace {

class SpecRoute final : public Handler {
 public:
  SpecRoute(ServiceContext& ctx, RouteSpec spec) : ctx_(ctx), spec_(std::move(spec)) {}

  std::optional<HttpResponse> Head(Exchange& ex) override {
    if (Status st = ex.request.OnlyQueryParams(spec_.query); !st.ok()) return StatusResponse(st);
    switch (spec_.access) {
      case Access::kPublic:
        return std::nullopt;
      case Access::kAdmin:
        return RequireAdmin(ctx_, ex.request);
      case Access::kApiKey:
        break;
    }
    metering::GateRequest g = spec_.gate;
    if (spec_.gate_from_request) {
      StatusOr<metering::GateRequest> built = spec_.gate_from_request(ex.request);
      if (!built.ok()) return StatusResponse(built.status());
      g = std::move(built).value();
    }
    metering::GateResult caller;
    if (std::optional<HttpResponse> refused =
            Authenticate(ctx_, ex, std::move(g), spec_.forwarded_target, &caller)) {
      return refused;
    }
    ex.caller = std::move(caller);
    return std::nullopt;
  }

  void Body(Exchange& ex, Reply& reply) override {
    if (!spec_.uses_store || (spec_.queues_its_write && spec_.queues_its_write(ex))) {
      Answer(ex, reply);
      return;
    }
    // The exchange and the reply stay valid until the reply is sent.
    if (!ctx_.service.request_pool().Post([this, &ex, &reply] { Answer(ex, reply); })) {
      reply.Send(Identified(ex, RetryLaterResponse(503, "UNAVAILABLE", "the server is stopping", 1000)));
    }
  }

 private:
  void Answer(Exchange& ex, Reply& reply) {
    try {
      if (std::optional<HttpResponse> tampered = CheckContentDigest(ex)) {
        reply.Send(Identified(ex, std::move(*tampered)));
        return;
      }
      nlohmann::json body;
      bool parse = spec_.body == BodyKind::kJson ||
                   (spec_.body == BodyKind::kOptionalJson && !ex.request.body.empty());
      if (parse) {
        if (std::optional<HttpResponse> bad = ParseJsonObject(ex.request, &body)) {
          reply.Send(Identified(ex, std::move(*bad)));
          return;
        }
      } else if (spec_.body != BodyKind::kNone) {
        body = nlohmann::json::object();
      }
      if (spec_.respond_later) {
        spec_.respond_later(ex, std::move(body), reply);
        return;
      }
      reply.Send(Identified(ex, spec_.respond(ex, body)));
    } catch (const std::exception&) {
      reply.Send(ErrorResponse(500, "INTERNAL", "internal error"));
    }
  }


  // Every answer to an identified caller is logged with that identity.
  static HttpResponse Identified(const Exchange& ex, HttpResponse res) {
    if (ex.caller && !res.identity) SetLogIdentity(res, *ex.caller);
    return res;
  }

  ServiceContext& ctx_;
  const RouteSpec spec_;
};

}  // namespace

HandlerPtr MakeRoute(ServiceContext& ctx, RouteSpec spec) {
  return std::make_unique<SpecRoute>(ctx, std::move(spec));
}

}  // namespace keyward::http
