// tls.cc: see tls.h.
#include "http/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509err.h>
#include <sys/stat.h>

#include <boost/asio/ssl/context.hpp>
#include <cstring>

namespace keyward::http {
namespace {

namespace ssl = boost::asio::ssl;

// TLS 1.2 suites: forward secrecy and AEAD only. TLS 1.3 suites are
// OpenSSL's defaults (all AEAD).
constexpr const char* kCiphers12 =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

// The mode of the file at `path`; kInvalidArgument naming the setting when
// it is missing or not a regular file.
StatusOr<mode_t> FileMode(const std::string& what, const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return InvalidArgumentError(what + " " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return InvalidArgumentError(what + " " + path + " is not a file");
  return st.st_mode;
}

// ALPN: keyward speaks HTTP/1.1 only; a client that offers ALPN without it
// gets no ALPN answer (and may go on with HTTP/1.1 or give up).
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  static constexpr unsigned char kHttp11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};
  for (unsigned int i = 0; i < inlen;) {
    const unsigned int n = in[i];
    if (i + 1 + n > inlen) break;
    if (n == sizeof kHttp11 && std::memcmp(in + i + 1, kHttp11, n) == 0) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(n);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + n;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

StatusOr<std::shared_ptr<ssl::context>> MakeServerTlsContext(const TlsOptions& o) {
  if (o.cert_file.empty() || o.key_file.empty()) {
    return InvalidArgumentError("TLS needs both tls_cert and tls_key");
  }
  KW_RETURN_IF_ERROR(FileMode("tls_cert", o.cert_file).status());
  KW_ASSIGN_OR_RETURN(mode_t key_mode, FileMode("tls_key", o.key_file));
  if (key_mode & (S_IROTH | S_IWOTH)) {
    return InvalidArgumentError("tls_key " + o.key_file +
                                " may be read by any user: chmod 0600 (or 0640 with a group such as ssl-cert)");
  }
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(native, kCiphers12) != 1) return InternalError("TLS ciphers: " + OpenSslError());
  if (SSL_CTX_use_certificate_chain_file(native, o.cert_file.c_str()) != 1) {
    return InvalidArgumentError("tls_cert " + o.cert_file + ": " + OpenSslError());
  }
  if (SSL_CTX_use_PrivateKey_file(native, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      return InvalidArgumentError("tls_key " + o.key_file + " does not belong to the certificate in " + o.cert_file);
    }
    return InvalidArgumentError("tls_key " + o.key_file + ": " + OpenSslError());
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return InvalidArgumentError("tls_key " + o.key_file + " does not belong to the certificate in " + o.cert_file);
  }
  if (!o.client_ca_file.empty()) {
    KW_RETURN_IF_ERROR(FileMode("tls_client_ca", o.client_ca_file).status());
    if (SSL_CTX_load_verify_locations(native, o.client_ca_file.c_str(), nullptr) != 1) {
      return InvalidArgumentError("tls_client_ca " + o.client_ca_file + ": " + OpenSslError());
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.client_ca_file.c_str());
    if (names) SSL_CTX_set_client_CA_list(native, names);
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  SSL_CTX_set_alpn_select_cb(native, SelectAlpn, nullptr);
  // Resumption: session ids (TLS 1.2) from a server-side cache, tickets
  // (TLS 1.2 and 1.3) under keys OpenSSL makes per context.
  static constexpr unsigned char kSessionContext[] = "keyward";
  SSL_CTX_set_session_id_context(native, kSessionContext, sizeof kSessionContext - 1);
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_SERVER);
  SSL_CTX_sess_set_cache_size(native, 20'000);
  SSL_CTX_set_timeout(native, 3600);
  return ctx;
}

std::string DescribeCertificate(const ssl::context& context) {
  X509* cert = SSL_CTX_get0_certificate(const_cast<ssl::context&>(context).native_handle());
  if (!cert) return "no certificate";
  auto name = [](X509_NAME* n) {
    char buf[256];
    X509_NAME_oneline(n, buf, sizeof buf);
    return std::string(buf);
  };
  std::string out = "certificate " + name(X509_get_subject_name(cert)) + ", issued by " +
                    name(X509_get_issuer_name(cert));
  const ASN1_TIME* until = X509_get0_notAfter(cert);
  tm t{};
  if (until && ASN1_TIME_to_tm(until, &t) == 1) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday);
    out += ", valid until " + std::string(buf);
  }
  return out;
}

}  // namespace keyward::http
