// tls.h: the server's TLS settings and the OpenSSL context made from them
// (issue 13). The context is built from files and can be built again while
// the server runs (SIGHUP): connections keep the context they started with.
#pragma once

#include <memory>
#include <string>

#include "keyward/status.h"

namespace boost::asio::ssl {
class context;
}

namespace keyward::http {

struct TlsOptions {
  std::string cert_file;       // PEM: the certificate chain, leaf first
  std::string key_file;        // PEM: its private key; refused if others may read it
  std::string client_ca_file;  // PEM: when set, clients must present a certificate it signed
  bool enabled() const { return !cert_file.empty() || !key_file.empty(); }
};

// TLS 1.2 at least (1.3 preferred), ECDHE with AES-GCM or ChaCha20-Poly1305
// only, ALPN "http/1.1", a server-side session cache and session tickets
// (resumption). kInvalidArgument naming the file and what is wrong: a
// missing file, a key readable by others (mode o+r; group-readable is
// allowed, as Debian's ssl-cert group uses 0640), a key that does not match
// the certificate, a bad PEM.
StatusOr<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(const TlsOptions& options);

// One line about a context's certificate for the start-up banner:
// subject, issuer and expiry.
std::string DescribeCertificate(const boost::asio::ssl::context& context);

}  // namespace keyward::http
