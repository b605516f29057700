// http_signature.cc: RFC 9421 signature bases over RFC 8941 fields, the
// hmac-sha256 algorithm, and RFC 9530 Content-Digest.
#include "core/http_signature.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "core/base64.h"
#include "core/crypto.h"
#include "core/sealing.h"
#include "core/structured_fields.h"
#include "keyward/content_digest.h"

namespace keyward::core::httpsig {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

// RFC 9110 §4.2.3: lower-case, and no port when it is the scheme's default.
std::string NormalizedAuthority(const Message& msg) {
  std::string a = Lower(msg.authority);
  std::string scheme = Lower(msg.scheme);
  std::string_view default_port = scheme == "https" ? ":443" : scheme == "http" ? ":80" : "";
  if (!default_port.empty() && a.size() > default_port.size() && a.ends_with(default_port)) {
    a.resize(a.size() - default_port.size());
  }
  return a;
}

Status Bad(std::string what) { return InvalidArgumentError(std::move(what)); }

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

}  // namespace

std::optional<std::string> JoinedField(const std::vector<std::pair<std::string, std::string>>& headers,
                                       std::string_view name) {
  std::optional<std::string> out;
  for (const auto& [k, v] : headers) {
    if (k != name) continue;
    if (out) {
      *out += ", ";
      *out += Trim(v);
    } else {
      out = std::string(Trim(v));
    }
  }
  return out;
}

namespace {

// JoinedField over a message that may have no headers.
std::optional<std::string> FieldOf(const Message& msg, std::string_view name) {
  if (!msg.headers) return std::nullopt;
  return JoinedField(*msg.headers, name);
}

}  // namespace

Secret DeriveSigningSecret(std::string_view api_key) {
  return HkdfSha256(api_key, {}, kSigningSecretInfo);
}

StatusOr<std::string> SealSigningSecret(const Sealer& sealer, std::string_view api_key, std::string_view key_id) {
  Secret secret = DeriveSigningSecret(api_key);
  StatusOr<std::string> sealed = sealer.Seal(SecretBytes(secret), key_id);
  OPENSSL_cleanse(secret.data(), secret.size());
  return sealed;
}

std::string ContentDigest(std::string_view body) {
  Sha256Digest d = Sha256(body);
  return "sha-256=:" + Base64Encode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size())) + ":";
}

StatusOr<bool> ContentDigestMatches(std::string_view field, std::string_view body) {
  StatusOr<sf::Dictionary> dict = sf::ParseDictionary(field);
  if (!dict.ok()) return Bad("Content-Digest: " + dict.status().message());
  for (const auto& [alg, member] : *dict) {
    if (alg != "sha-256") continue;
    if (member.is_inner_list || member.item.value.type != sf::BareItem::Type::kByteSequence) {
      return Bad("Content-Digest: sha-256 must be a byte sequence");
    }
    Sha256Digest d = Sha256(body);
    const std::string& given = member.item.value.text;
    return given.size() == d.size() && ConstantTimeEqual(given.data(), d.data(), d.size());
  }
  return Bad("Content-Digest has no sha-256 member");
}

StatusOr<std::string> ComponentValue(const Message& msg, std::string_view name) {
  std::string_view path = msg.path.empty() ? std::string_view("/") : msg.path;
  std::string out;
  if (name == "@method") {
    out = msg.method;
  } else if (name == "@scheme") {
    out = Lower(msg.scheme);
  } else if (name == "@authority") {
    out = NormalizedAuthority(msg);
  } else if (name == "@target-uri") {
    out = Lower(msg.scheme) + "://" + NormalizedAuthority(msg) + std::string(path);
    if (!msg.query.empty()) out += "?" + std::string(msg.query);
  } else if (name == "@request-target") {
    out = std::string(path) + (msg.query.empty() ? "" : "?" + std::string(msg.query));
  } else if (name == "@path") {
    out = path;
  } else if (name == "@query") {
    out = "?" + std::string(msg.query);
  } else if (!name.empty() && name.front() == '@') {
    return Bad("covered component \"" + std::string(name) + "\" is not supported for requests here");
  } else {
    std::optional<std::string> v = FieldOf(msg, name);
    if (!v) return Bad("covered header field \"" + std::string(name) + "\" is not in the request");
    out = std::move(*v);
  }
  if (HasControl(out)) return Bad("covered component \"" + std::string(name) + "\" holds a control character");
  return out;
}

namespace {

// The components and parameters of a Signature-Input member, checked; the
// base is built from them.
StatusOr<std::string> BaseFor(const Message& msg, const sf::InnerList& list) {
  std::string base;
  std::vector<std::string_view> seen;
  for (const sf::Item& c : list.items) {
    if (c.value.type != sf::BareItem::Type::kString) return Bad("covered components must be strings");
    if (!c.params.empty()) {
      return Bad("covered component \"" + c.value.text + "\" has parameters; none are supported here");
    }
    const std::string& name = c.value.text;
    if (name.empty() || Lower(name) != name) {
      return Bad("covered component \"" + name + "\" must be a lower-case name");
    }
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      return Bad("covered component \"" + name + "\" is listed twice");
    }
    if (name == "@signature-params") return Bad("\"@signature-params\" cannot be covered");
    seen.push_back(name);
    KW_ASSIGN_OR_RETURN(std::string value, ComponentValue(msg, name));
    base += sf::SerializeItem(c);
    base += ": ";
    base += value;
    base += '\n';
  }
  base += "\"@signature-params\": ";
  base += sf::SerializeInnerList(list);
  return base;
}

bool Covers(const sf::InnerList& list, std::string_view name) {
  return std::any_of(list.items.begin(), list.items.end(),
                     [&](const sf::Item& i) { return i.value.text == name; });
}

}  // namespace

StatusOr<std::string> SignatureBase(const Message& msg, std::string_view signature_params) {
  StatusOr<sf::Dictionary> d = sf::ParseDictionary("s=" + std::string(signature_params));
  if (!d.ok()) return d.status();
  if (d->size() != 1 || !d->front().second.is_inner_list) return Bad("signature parameters must be an inner list");
  return BaseFor(msg, d->front().second.list);
}

bool HasSignatureHeaders(const std::vector<std::pair<std::string, std::string>>& headers) {
  return std::any_of(headers.begin(), headers.end(),
                     [](const auto& h) { return h.first == "signature-input" || h.first == "signature"; });
}

StatusOr<ReceivedSignature> ReadSignature(const Message& msg, bool has_body) {
  std::optional<std::string> input_field = FieldOf(msg, "signature-input");
  std::optional<std::string> sig_field = FieldOf(msg, "signature");
  if (!input_field || !sig_field) return Bad("a signed request needs both Signature-Input and Signature");
  StatusOr<sf::Dictionary> inputs = sf::ParseDictionary(*input_field);
  if (!inputs.ok()) return Bad("Signature-Input: " + inputs.status().message());
  StatusOr<sf::Dictionary> sigs = sf::ParseDictionary(*sig_field);
  if (!sigs.ok()) return Bad("Signature: " + sigs.status().message());

  // The one signature made with a keyward key; others (a proxy's) are not ours.
  const std::pair<std::string, sf::Member>* mine = nullptr;
  for (const auto& member : *inputs) {
    if (!member.second.is_inner_list) continue;
    const sf::BareItem* keyid = sf::FindParam(member.second.list.params, "keyid");
    if (!keyid || keyid->type != sf::BareItem::Type::kString || !keyid->text.starts_with("key_")) continue;
    if (mine) return Bad("Signature-Input holds more than one signature with a keyward keyid");
    mine = &member;
  }
  if (!mine) return Bad("Signature-Input holds no signature with a keyward keyid (keyid=\"key_…\")");
  const sf::InnerList& list = mine->second.list;

  ReceivedSignature out;
  out.label = mine->first;
  out.key_id = sf::FindParam(list.params, "keyid")->text;
  if (const sf::BareItem* alg = sf::FindParam(list.params, "alg");
      alg && (alg->type != sf::BareItem::Type::kString || alg->text != kAlgorithm)) {
    return Bad("alg must be \"hmac-sha256\"");
  }
  const sf::BareItem* created = sf::FindParam(list.params, "created");
  if (!created || created->type != sf::BareItem::Type::kInteger) {
    return Bad("the signature needs a created parameter (an integer, seconds since the epoch)");
  }
  out.created = created->integer;
  if (const sf::BareItem* expires = sf::FindParam(list.params, "expires")) {
    if (expires->type != sf::BareItem::Type::kInteger) return Bad("expires must be an integer");
    out.expires = expires->integer;
  }
  const sf::BareItem* nonce = sf::FindParam(list.params, "nonce");
  if (!nonce || nonce->type != sf::BareItem::Type::kString || nonce->text.empty() ||
      nonce->text.size() > kMaxNonceLength) {
    return Bad("the signature needs a nonce parameter (a string of 1 to " + std::to_string(kMaxNonceLength) +
               " characters)");
  }
  out.nonce = nonce->text;

  if (!Covers(list, "@method")) return Bad("the signature must cover \"@method\"");
  if (!Covers(list, "@target-uri") &&
      !(Covers(list, "@authority") && Covers(list, "@path") && Covers(list, "@query"))) {
    return Bad("the signature must cover \"@target-uri\", or \"@authority\", \"@path\" and \"@query\"");
  }
  out.covers_content_digest = Covers(list, "content-digest");
  if (has_body && !out.covers_content_digest) {
    return Bad("a request with a body must cover \"content-digest\"");
  }

  auto sig = std::find_if(sigs->begin(), sigs->end(), [&](const auto& m) { return m.first == out.label; });
  if (sig == sigs->end() || sig->second.is_inner_list ||
      sig->second.item.value.type != sf::BareItem::Type::kByteSequence) {
    return Bad("Signature has no byte sequence labelled \"" + out.label + "\"");
  }
  out.signature = sig->second.item.value.text;
  if (out.signature.size() != 32) return Bad("an hmac-sha256 signature is 32 bytes");
  KW_ASSIGN_OR_RETURN(out.base, BaseFor(msg, list));
  return out;
}

bool Verify(const ReceivedSignature& sig, std::string_view secret) {
  Sha256Digest mac = HmacSha256(secret, sig.base);
  return sig.signature.size() == mac.size() && ConstantTimeEqual(sig.signature.data(), mac.data(), mac.size());
}

StatusOr<SignedFields> Sign(const Message& msg, std::string_view body, std::string_view api_key,
                            const SignOptions& options) {
  SignedFields out;
  std::vector<std::pair<std::string, std::string>> headers;
  if (msg.headers) headers = *msg.headers;
  std::vector<std::string> components = options.components;
  if (components.empty()) components = {"@method", "@target-uri"};
  if (!body.empty()) {
    out.content_digest = ContentDigest(body);
    std::erase_if(headers, [](const auto& h) { return h.first == "content-digest"; });
    headers.emplace_back("content-digest", out.content_digest);
    if (std::find(components.begin(), components.end(), "content-digest") == components.end()) {
      components.push_back("content-digest");
    }
  }
  std::string nonce(options.nonce);
  if (nonce.empty()) {
    unsigned char raw[16];
    KW_RETURN_IF_ERROR(RandomBytes(raw, sizeof raw));
    nonce = Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
  }
  sf::InnerList list;
  for (std::string& c : components) list.items.push_back({sf::BareItem::String(std::move(c)), {}});
  list.params = {{"created", sf::BareItem::Integer(options.created)},
                 {"keyid", sf::BareItem::String(std::string(options.key_id))},
                 {"nonce", sf::BareItem::String(nonce)},
                 {"alg", sf::BareItem::String(std::string(kAlgorithm))}};
  Message with_digest = msg;
  with_digest.headers = &headers;
  KW_ASSIGN_OR_RETURN(std::string base, BaseFor(with_digest, list));
  Secret secret = DeriveSigningSecret(api_key);
  Sha256Digest mac = HmacSha256(SecretBytes(secret), base);
  std::string label(options.label);
  out.signature_input = label + "=" + sf::SerializeInnerList(list);
  out.signature = label + "=:" + Base64Encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size())) + ":";
  return out;
}

Status SplitTargetUri(std::string_view uri, Message* msg) {
  if (HasControl(uri) || uri.find(' ') != std::string_view::npos) {
    return Bad("the target URI holds a space or a control character");
  }
  std::size_t sep = uri.find("://");
  if (sep == std::string_view::npos) return Bad("the target URI must be absolute (http://… or https://…)");
  std::string_view scheme = uri.substr(0, sep);
  if (Lower(scheme) != "http" && Lower(scheme) != "https") {
    return Bad("the target URI's scheme must be http or https");
  }
  if (uri.find('#') != std::string_view::npos) return Bad("the target URI must not hold a fragment");
  std::string_view rest = uri.substr(sep + 3);
  std::size_t end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, end);
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    return Bad("the target URI needs a host (and no user information)");
  }
  rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  std::size_t q = rest.find('?');
  msg->scheme = scheme;
  msg->authority = authority;
  msg->path = rest.substr(0, q);
  msg->query = q == std::string_view::npos ? std::string_view() : rest.substr(q + 1);
  return OkStatus();
}

}  // namespace keyward::core::httpsig

namespace keyward {

std::string ContentDigestOf(std::string_view body) { return core::httpsig::ContentDigest(body); }

bool BodyMatchesContentDigest(std::string_view field, std::string_view body) {
  StatusOr<bool> m = core::httpsig::ContentDigestMatches(field, body);
  return m.ok() && *m;
}

}  // namespace keyward
