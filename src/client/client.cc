// client.cc: keyward::Client over libcurl (one easy handle, reused).
#include "keyward/client.h"

#include <curl/curl.h>
#include <strings.h>

#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/http_signature.h"
#include "json/parse.h"

namespace keyward {
namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::size_t OnBody(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<ClientResponse*>(user)->body.append(data, size * n);
  return size * n;
}

std::size_t OnHeader(char* data, std::size_t size, std::size_t n, void* user) {
  std::string_view line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.remove_suffix(1);
    static_cast<ClientResponse*>(user)->headers.emplace_back(std::move(name), std::string(value));
  }
  return size * n;
}

}  // namespace

std::string ClientResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return "";
}

struct Client::Impl {
  ClientOptions options;
  CURL* curl = nullptr;

  StatusOr<ClientResponse> Call(const char* method, const std::string& path,
                                const Credential& credential, const std::string* body) {
    if (!curl) return InternalError("libcurl could not be initialised");
    ClientResponse res;
    std::string url = options.base_url + path;
    // A signed request: the headers are made before anything is sent.
    std::vector<std::string> signed_headers;
    if (!credential.key_id.empty()) {
      core::httpsig::Message msg;
      msg.method = method;
      KW_RETURN_IF_ERROR(core::httpsig::SplitTargetUri(url, &msg));
      core::httpsig::SignOptions sign;
      sign.key_id = credential.key_id;
      sign.created = static_cast<std::int64_t>(std::time(nullptr));
      KW_ASSIGN_OR_RETURN(core::httpsig::SignedFields f,
                          core::httpsig::Sign(msg, body ? std::string_view(*body) : std::string_view(),
                                              credential.key, sign));
      signed_headers.push_back("Signature-Input: " + f.signature_input);
      signed_headers.push_back("Signature: " + f.signature);
      if (!f.content_digest.empty()) signed_headers.push_back("Content-Digest: " + f.content_digest);
    }
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout_ms));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout_ms));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &res);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &res);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
    if (!options.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options.ca_file.c_str());
    if (!options.client_cert_file.empty()) curl_easy_setopt(curl, CURLOPT_SSLCERT, options.client_cert_file.c_str());
    if (!options.client_key_file.empty()) curl_easy_setopt(curl, CURLOPT_SSLKEY, options.client_key_file.c_str());
    if (options.insecure_skip_tls_verify) {
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    curl_slist* headers = nullptr;
    std::string auth_header;
    if (!credential.key_id.empty()) {
      for (const std::string& h : signed_headers) headers = curl_slist_append(headers, h.c_str());
    } else if (!credential.key.empty()) {
      auth_header = "Authorization: Api-Key ";
      auth_header += credential.key;
      headers = curl_slist_append(headers, auth_header.c_str());
    }
    if (body) {
      headers = curl_slist_append(headers, "Content-Type: application/json");
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body->size()));
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    std::fill(auth_header.begin(), auth_header.end(), '\0');
    if (rc != CURLE_OK) {
      return UnavailableError(std::string(method) + " " + path + ": " + curl_easy_strerror(rc));
    }
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    res.status = static_cast<int>(status);
    return res;
  }
};

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>()) {
  GlobalInit();
  impl_->options = std::move(options);
  while (!impl_->options.base_url.empty() && impl_->options.base_url.back() == '/') {
    impl_->options.base_url.pop_back();
  }
  impl_->curl = curl_easy_init();
}

Client::~Client() {
  if (impl_->curl) curl_easy_cleanup(impl_->curl);
}

StatusOr<ClientResponse> Client::SubmitJob(const Credential& credential, std::string_view job_id,
                                           std::string_view task, std::string_view payload_json) {
  jsonio::ParsedJson parsed = jsonio::ParseJson(payload_json);
  if (!parsed.ok()) return InvalidArgumentError("payload: " + parsed.message);
  const nlohmann::json& payload = parsed.value;
  if (!payload.is_object()) return InvalidArgumentError("payload must be a JSON object");
  std::string body = nlohmann::json{{"job_id", job_id}, {"task", task}, {"payload", payload}}.dump();
  return impl_->Call("POST", "/v1/ai/jobs", credential, &body);
}

StatusOr<ClientResponse> Client::GetJob(const Credential& credential, std::string_view id) {
  char* escaped = curl_easy_escape(impl_->curl, id.data(), static_cast<int>(id.size()));
  std::string path = std::string("/v1/ai/jobs/") + (escaped ? escaped : "");
  curl_free(escaped);
  return impl_->Call("GET", path, credential, nullptr);
}

StatusOr<ClientResponse> Client::Verify(std::string_view key, const std::vector<std::string>& scopes) {
  std::string body = nlohmann::json{{"key", key}, {"scopes", scopes}}.dump();
  StatusOr<ClientResponse> r = impl_->Call("POST", "/v1/keys/verify", "", &body);
  std::fill(body.begin(), body.end(), '\0');
  return r;
}

StatusOr<ClientResponse> Client::Authz(const Credential& credential) {
  return impl_->Call("GET", "/v1/authz", credential, nullptr);
}

}  // namespace keyward
