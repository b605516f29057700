// Issue 13: `keyward serve` over TLS, with certificates a throwaway CA made
// (tests/support/make-certs): curl, the C++ client and the Python client
// succeed with the CA and fail without it, on an expired certificate and on
// a wrong host name; TLS 1.0/1.1 are refused (with a positive control: the
// same old client gets through to a deliberately permissive openssl
// s_server); mutual TLS refuses a client without a certificate; SIGHUP swaps
// the certificate while an established connection keeps working; hostile
// requests over TLS get their documented answers.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "keyward/client.h"
#include "store/postgres/connection.h"
#include "support/http_client.h"
#include "support/own_cluster.h"
#include "support/server_process.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"

namespace keyward {
namespace {

using nlohmann::json;

std::string Certs() {
  // Made once per test executable: openssl key generation is the slow part.
  static testing::TempDir* dir = [] {
    auto* d = new testing::TempDir();
    testing::RunResult r = testing::Run({KEYWARD_SOURCE_DIR "/tests/support/make-certs", d->File("certs")});
    if (r.exit_code != 0) ADD_FAILURE() << "make-certs: " << r.err;
    return d;
  }();
  return dir->File("certs");
}

class Tls : public ::testing::Test {
 protected:
  // Starts keyward serve over TLS with `cert` (a make-certs name).
  void Serve(const std::string& cert = "server", std::vector<std::string> extra_env = {}) {
    const std::string c = Certs();
    std::filesystem::copy_file(c + "/" + cert + ".pem", dir_.File("tls.pem"),
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(c + "/" + cert + ".key", dir_.File("tls.key"),
                               std::filesystem::copy_options::overwrite_existing);
    std::vector<std::string> env = {"KEYWARD_TLS_CERT=" + dir_.File("tls.pem"),
                                    "KEYWARD_TLS_KEY=" + dir_.File("tls.key")};
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    server_ = std::make_unique<testing::ServerProcess>(dir_.File("k.db"), dir_.File("access.log"),
                                                       std::vector<std::string>{}, env);
    ASSERT_TRUE(server_->started()) << server_->Errors();
    port_ = server_->address().substr(server_->address().rfind(':') + 1);
  }
  std::string Url(const std::string& path, const std::string& host = "127.0.0.1") const {
    return "https://" + host + ":" + port_ + path;
  }
  // curl's exit code (0: the request went through and got an HTTP answer).
  testing::RunResult Curl(std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/curl", "-sS", "--max-time", "10", "-o", "/dev/null",
                                     "-w", "%{http_code}"};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::Run(argv);
  }
  testing::RunResult Python(const std::string& code, std::vector<std::string> args = {}) {
    std::vector<std::string> argv = {"/usr/bin/python3", "-c", code};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::Run(argv, "", {"PYTHONPATH=" KEYWARD_SOURCE_DIR "/clients/python/src",
                                   "PYTHONDONTWRITEBYTECODE=1"});
  }
  testing::RunResult OpensslClient(std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/openssl", "s_client", "-connect", "127.0.0.1:" + port_};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::Run(argv, "Q\n");
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::ServerProcess> server_;
  std::string port_;
};

TEST_F(Tls, ClientsSucceedWithTheCaAndFailWithoutIt) {
  Serve();
  const std::string ca = Certs() + "/ca.pem";
  testing::RunResult r = Curl({"--cacert", ca, Url("/healthz")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "200");
  EXPECT_EQ(Curl({"--cacert", ca, Url("/healthz", "localhost")}).out, "200");
  r = Curl({Url("/healthz")});  // the system's CAs do not know ours
  EXPECT_EQ(r.exit_code, 60) << r.err;
  r = Curl({"--cacert", Certs() + "/other-ca.pem", Url("/healthz")});
  EXPECT_EQ(r.exit_code, 60) << r.err;
  r = Curl({"--http1.0", "--cacert", ca, Url("/healthz")});  // plain HTTP/1.0 inside TLS works too
  EXPECT_EQ(r.out, "200");

  // The C++ client.
  ClientOptions o;
  o.base_url = "https://127.0.0.1:" + port_;
  o.ca_file = ca;
  Client good(o);
  StatusOr<ClientResponse> v = good.Verify("kw_live_notakey");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->status, 200);
  o.ca_file = Certs() + "/other-ca.pem";
  Client wrong_ca(o);
  EXPECT_EQ(wrong_ca.Verify("kw_live_notakey").status().code(), StatusCode::kUnavailable);
  o.ca_file.clear();
  o.insecure_skip_tls_verify = true;  // the named escape hatch
  Client insecure(o);
  EXPECT_TRUE(insecure.Verify("kw_live_notakey").ok());

  // The Python client.
  const std::string py =
      "import sys, keyward\n"
      "c = keyward.Client(sys.argv[1], ca_file=sys.argv[2] or None, timeout=5)\n"
      "try:\n"
      "    print(c.verify('kw_live_notakey')['code'])\n"
      "except keyward.ConnectionFailed as e:\n"
      "    print('refused:', e)\n";
  r = Python(py, {"https://127.0.0.1:" + port_, ca});
  EXPECT_EQ(r.out, "MALFORMED\n") << r.err;
  r = Python(py, {"https://127.0.0.1:" + port_, ""});
  EXPECT_EQ(r.out.rfind("refused:", 0), 0u) << r.out << r.err;
  EXPECT_NE(r.out.find("CERTIFICATE_VERIFY_FAILED"), std::string::npos) << r.out;

  // Plain HTTP on the TLS port is not answered in the clear.
  r = Curl({"http://127.0.0.1:" + port_ + "/healthz"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out, "200");
}

TEST_F(Tls, AnExpiredCertificateOrAWrongHostNameIsRefusedByEveryClient) {
  const std::string ca = Certs() + "/ca.pem";
  for (const char* cert : {"expired", "wrong-host"}) {
    Serve(cert);
    testing::RunResult r = Curl({"--cacert", ca, Url("/healthz")});
    EXPECT_EQ(r.exit_code, 60) << cert << ": " << r.err;
    ClientOptions o;
    o.base_url = "https://127.0.0.1:" + port_;
    o.ca_file = ca;
    Client client(o);
    EXPECT_EQ(client.Verify("kw_live_notakey").status().code(), StatusCode::kUnavailable) << cert;
    r = Python("import sys, keyward\n"
               "try:\n"
               "    keyward.Client(sys.argv[1], ca_file=sys.argv[2], timeout=5).ready(); print('accepted')\n"
               "except keyward.ConnectionFailed as e:\n"
               "    print('refused')\n",
               {"https://127.0.0.1:" + port_, ca});
    EXPECT_EQ(r.out, "refused\n") << cert << r.err;
    server_->Stop();
  }
}

TEST_F(Tls, OldProtocolsAreRefusedWhileAPermissiveServerAcceptsTheSameClient) {
  Serve();
  const std::vector<std::string> old_client = {"-cipher", "DEFAULT@SECLEVEL=0"};
  // Positive control: openssl s_server that allows TLS 1.0 accepts this client.
  const std::string c = Certs();
  const std::string control_port = std::to_string(testing::FreeLoopbackPort());
  pid_t control = fork();
  if (control == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execl("/usr/bin/openssl", "openssl", "s_server", "-accept", ("127.0.0.1:" + control_port).c_str(), "-cert",
          (c + "/server.pem").c_str(), "-key", (c + "/server.key").c_str(), "-tls1", "-cipher",
          "DEFAULT@SECLEVEL=0", "-www", static_cast<char*>(nullptr));
    _exit(127);
  }
  testing::RunResult accepted;
  for (int i = 0; i < 50; ++i) {  // until s_server listens
    accepted = testing::Run({"/usr/bin/openssl", "s_client", "-connect", "127.0.0.1:" + control_port, "-tls1",
                             "-cipher", "DEFAULT@SECLEVEL=0"},
                            "Q\n");
    if (accepted.out.find("Protocol  : TLSv1\n") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(control, SIGTERM);
  waitpid(control, nullptr, 0);
  ASSERT_NE(accepted.out.find("Protocol  : TLSv1\n"), std::string::npos) << accepted.out << accepted.err;
  ASSERT_EQ(accepted.out.find("Cipher is (NONE)"), std::string::npos) << accepted.out;

  for (const char* version : {"-tls1", "-tls1_1"}) {
    std::vector<std::string> args = {version};
    args.insert(args.end(), old_client.begin(), old_client.end());
    testing::RunResult r = OpensslClient(args);
    EXPECT_NE(r.exit_code, 0) << version;
    EXPECT_NE(r.out.find("New, (NONE), Cipher is (NONE)"), std::string::npos) << version << r.out;
    EXPECT_NE(r.err.find("alert protocol version"), std::string::npos) << version << r.err;
  }
  testing::RunResult tls12 = OpensslClient({"-tls1_2", "-alpn", "http/1.1"});
  EXPECT_NE(tls12.out.find("Protocol  : TLSv1.2"), std::string::npos) << tls12.out;
  EXPECT_NE(tls12.out.find("ALPN protocol: http/1.1"), std::string::npos) << tls12.out;
  testing::RunResult tls13 = OpensslClient({});
  EXPECT_NE(tls13.out.find("TLSv1.3"), std::string::npos) << tls13.out;

  // Resumption: a TLS 1.2 session saved by one connection is resumed by the next.
  const std::string session = dir_.File("session.pem");
  OpensslClient({"-tls1_2", "-sess_out", session});
  testing::RunResult again = OpensslClient({"-tls1_2", "-sess_in", session});
  EXPECT_NE(again.out.find("Reused, TLSv1.2"), std::string::npos) << again.out;
}

TEST_F(Tls, MutualTlsRefusesAClientWithoutACertificate) {
  Serve("server", {"KEYWARD_TLS_CLIENT_CA=" + Certs() + "/ca.pem"});
  const std::string ca = Certs() + "/ca.pem";
  testing::RunResult r = Curl({"--cacert", ca, Url("/healthz")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out, "200");
  r = Curl({"--cacert", ca, "--cert", Certs() + "/client.pem", "--key", Certs() + "/client.key", Url("/healthz")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "200");
  ClientOptions o;
  o.base_url = "https://127.0.0.1:" + port_;
  o.ca_file = ca;
  Client without(o);
  EXPECT_EQ(without.Verify("kw_live_notakey").status().code(), StatusCode::kUnavailable);
  o.client_cert_file = Certs() + "/client.pem";
  o.client_key_file = Certs() + "/client.key";
  Client with(o);
  StatusOr<ClientResponse> v = with.Verify("kw_live_notakey");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->status, 200);
  // The Python client, with and without its certificate.
  const std::string py =
      "import sys, keyward\n"
      "cert = sys.argv[3] or None\n"
      "c = keyward.Client(sys.argv[1], ca_file=sys.argv[2], client_cert=cert, client_key=sys.argv[4] or None, timeout=5)\n"
      "try:\n"
      "    print(c.verify('kw_live_notakey')['code'])\n"
      "except keyward.ConnectionFailed:\n"
      "    print('refused')\n";
  testing::RunResult r2 = Python(py, {"https://127.0.0.1:" + port_, ca, Certs() + "/client.pem", Certs() + "/client.key"});
  EXPECT_EQ(r2.out, "MALFORMED\n") << r2.err;
  r2 = Python(py, {"https://127.0.0.1:" + port_, ca, "", ""});
  EXPECT_EQ(r2.out, "refused\n") << r2.err;
  // The refused handshakes are counted.
  testing::RunResult m = testing::Run({"/usr/bin/curl", "-sS", "--cacert", ca, "--cert", Certs() + "/client.pem",
                                       "--key", Certs() + "/client.key", Url("/metrics")});
  EXPECT_NE(m.out.find("keyward_tls_handshake_failures_total "), std::string::npos) << m.out.substr(0, 500);
  EXPECT_EQ(m.out.find("keyward_tls_handshake_failures_total 0\n"), std::string::npos);
}

TEST_F(Tls, SighupSwapsTheCertificateWhileAConnectionKeepsItsOwn) {
  Serve("server");
  const std::string c = Certs();
  // The next certificate goes into place; nothing changes before SIGHUP.
  std::filesystem::copy_file(c + "/server2.pem", dir_.File("tls.pem"), std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(c + "/server2.key", dir_.File("tls.key"), std::filesystem::copy_options::overwrite_existing);
  const std::string py =
      "import hashlib, http.client, json, os, signal, ssl, sys, time\n"
      "port, ca, pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])\n"
      "ctx = ssl.create_default_context(cafile=ca)\n"
      "def fingerprint(conn):\n"
      "    return hashlib.sha256(conn.sock.getpeercert(binary_form=True)).hexdigest()\n"
      "kept = http.client.HTTPSConnection('127.0.0.1', port, context=ctx, timeout=5)\n"
      "kept.request('GET', '/healthz'); first = kept.getresponse(); first.read()\n"
      "before = fingerprint(kept)\n"
      "os.kill(pid, signal.SIGHUP)\n"
      "after = before\n"
      "for _ in range(100):\n"
      "    fresh = http.client.HTTPSConnection('127.0.0.1', port, context=ctx, timeout=5)\n"
      "    fresh.request('GET', '/healthz'); fresh.getresponse().read()\n"
      "    after = fingerprint(fresh); fresh.close()\n"
      "    if after != before: break\n"
      "    time.sleep(0.05)\n"
      "kept.request('GET', '/healthz'); second = kept.getresponse(); second.read()\n"
      "print(json.dumps({'changed': after != before, 'kept_same': fingerprint(kept) == before,\n"
      "                  'statuses': [first.status, second.status]}))\n";
  testing::RunResult r = Python(py, {port_, c + "/ca.pem", std::to_string(server_->pid())});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json out = json::parse(r.out);
  EXPECT_TRUE(out["changed"]) << r.out;
  EXPECT_TRUE(out["kept_same"]) << r.out;
  EXPECT_EQ(out["statuses"], json::array({200, 200}));

  // A broken file on reload keeps the certificate in use.
  std::ofstream(dir_.File("tls.pem")) << "not a certificate\n";
  kill(server_->pid(), SIGHUP);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(Curl({"--cacert", c + "/ca.pem", Url("/healthz")}).out, "200");
  EXPECT_NE(server_->Errors().find("TLS reload failed"), std::string::npos) << server_->Errors();
}

TEST_F(Tls, HostileRequestsOverTlsGetTheirDocumentedAnswers) {
  Serve();
  // Raw bytes on a TLS connection; prints the status line of each answer.
  const std::string py =
      "import socket, ssl, sys\n"
      "port, ca = int(sys.argv[1]), sys.argv[2]\n"
      "ctx = ssl.create_default_context(cafile=ca)\n"
      "cases = [b'GET /healthz HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n',\n"
      "         b'GET /healthz HTTP/1.1\\r\\nHost: x\\r\\nX-Big: ' + b'a' * 20000 + b'\\r\\n\\r\\n',\n"
      "         b'BLAH\\x00 / HTTP/1.1\\r\\n\\r\\n',\n"
      "         b'POST /v1/keys/verify HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 999999999\\r\\n\\r\\n',\n"
      "         b'POST /v1/keys/verify HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5\\r\\n\\r\\n{\"k\":',\n"
      "         b'GET /v1/authz HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Api-Key \\xff\\xfe\\r\\n\\r\\n']\n"
      "for raw in cases:\n"
      "    with socket.create_connection(('127.0.0.1', port), timeout=10) as s:\n"
      "        with ctx.wrap_socket(s, server_hostname='127.0.0.1') as t:\n"
      "            t.sendall(raw)\n"
      "            data = b''\n"
      "            try:\n"
      "                while b'\\r\\n' not in data:\n"
      "                    chunk = t.recv(4096)\n"
      "                    if not chunk: break\n"
      "                    data += chunk\n"
      "            except (ConnectionResetError, ssl.SSLError):\n"
      "                pass\n"
      "            print(data.split(b'\\r\\n', 1)[0].decode(errors='replace'))\n";
  testing::RunResult r = Python(py, {port_, Certs() + "/ca.pem"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "HTTP/1.1 200 OK\n"
            "HTTP/1.1 431 Request Header Fields Too Large\n"
            "HTTP/1.1 400 Bad Request\n"
            "HTTP/1.1 413 Payload Too Large\n"
            "HTTP/1.1 400 Bad Request\n"
            "HTTP/1.1 401 Unauthorized\n");
  // And the server still serves.
  EXPECT_EQ(Curl({"--cacert", Certs() + "/ca.pem", Url("/healthz")}).out, "200");
}

TEST_F(Tls, APlainListenerBesideTlsServesALocalProxy) {
  const int plain_port = testing::FreeLoopbackPort();
  Serve("server", {"KEYWARD_PLAIN_LISTEN=127.0.0.1:" + std::to_string(plain_port)});
  EXPECT_NE(server_->Errors().find("plain HTTP also on 127.0.0.1:" + std::to_string(plain_port)), std::string::npos)
      << server_->Errors();
  EXPECT_EQ(testing::HttpGet("127.0.0.1:" + std::to_string(plain_port), "/healthz").status, 200);
  EXPECT_EQ(Curl({"--cacert", Certs() + "/ca.pem", Url("/healthz")}).out, "200");
  // Each speaks only its own protocol.
  EXPECT_NE(Curl({"--cacert", Certs() + "/ca.pem", "https://127.0.0.1:" + std::to_string(plain_port) + "/healthz"})
                .exit_code, 0);
}

TEST_F(Tls, TheWorkerCallsTheComputeApiOverTlsAndRefusesAnUnknownCa) {
  Serve();
  const std::string ca = Certs() + "/ca.pem";
  auto post = [&](const std::string& path, const std::string& auth, const std::string& body) {
    testing::RunResult r = testing::Run({"/usr/bin/curl", "-sS", "--max-time", "10", "--cacert", ca, "-H",
                                         "Authorization: " + auth, "-H", "Content-Type: application/json",
                                         "--data-binary", body, Url(path)});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out, nullptr, false);
  };
  json user = post("/v1/users", std::string("Bearer ") + testing::kAdminToken, R"({"name":"Over TLS"})");
  const std::string key = user["key"]["secret"];
  json first = post("/v1/queue/jobs", "Api-Key " + key, R"({"job_id":"tls-1","task":"echo","payload":{}})");
  auto worker = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {testing::KeywardBinary(), "--db", dir_.File("k.db"), "worker", "--server",
                                     "https://127.0.0.1:" + port_, "--once", "--backoff", "10ms"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return testing::Run(argv);
  };
  auto status_of = [&](const json& entry) {
    testing::RunResult r = testing::Run({"/usr/bin/curl", "-sS", "--cacert", ca, "-H", "Authorization: Api-Key " + key,
                                         Url("/v1/queue/jobs/" + entry["entry"]["id"].get<std::string>())});
    return json::parse(r.out, nullptr, false)["entry"];
  };
  // Without the CA the worker cannot call the compute API: the entry ends
  // dead with the reason, no job ran.
  testing::RunResult w = worker({});
  EXPECT_EQ(w.exit_code, 0) << w.err;
  json dead = status_of(first);
  EXPECT_EQ(dead["status"], "dead") << dead;
  EXPECT_NE(dead["last_error"].get<std::string>().find("certificate"), std::string::npos) << dead;
  // With it, the next entry runs.
  json second = post("/v1/queue/jobs", "Api-Key " + key, R"({"job_id":"tls-2","task":"echo","payload":{}})");
  w = worker({"--ca-file", ca});
  EXPECT_EQ(w.exit_code, 0) << w.err;
  EXPECT_EQ(status_of(second)["status"], "done") << status_of(second);
}

TEST(PostgresTls, KeywardTalksToPostgresOverVerifiedTls) {
  testing::TempDir dir;
  const std::string certs = Certs();
  testing::OwnCluster cluster(dir.File("pg.state"), {"PG_CLUSTER_TLS=" + certs});
  testing::RunResult started = cluster.Script("start");
  ASSERT_EQ(started.exit_code, 0) << started.err;
  const std::string server = cluster.Server();
  const std::string verified = "?sslmode=verify-full&sslrootcert=" + certs + "/ca.pem";
  // The control: this cluster refuses connections without TLS.
  EXPECT_FALSE(store::postgres::Conn::Open({.conninfo = server + "/postgres?sslmode=disable"}).ok());
  auto admin = store::postgres::Conn::Open({.conninfo = server + "/postgres" + verified});
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  ASSERT_TRUE((*admin)->Run("CREATE DATABASE keyward").ok());

  const std::vector<std::string> env = {"KEYWARD_SEAL_KEY_FILE=" + dir.File("seal.key")};
  testing::ServerProcess s(server + "/keyward" + verified, dir.File("a.log"), {}, env);
  ASSERT_TRUE(s.started()) << s.Errors();
  testing::HttpConnection c(s.address());
  testing::HttpReply made = c.Send("POST", "/v1/users", {testing::AdminAuth()}, R"({"name":"pg tls"})");
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_EQ(testing::HttpGet(s.address(), "/v1/authz",
                             {testing::KeyAuth(json::parse(made.body)["key"]["secret"])}).status, 200);
  // Every connection keyward holds to the database is encrypted.
  StatusOr<store::postgres::Result> ssl = (*admin)->Exec(
      "SELECT count(*), count(*) FILTER (WHERE s.ssl) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) "
      "WHERE a.datname = 'keyward'");
  ASSERT_TRUE(ssl.ok()) << ssl.status().ToString();
  EXPECT_GT(ssl->Int(0, 0), 0);
  EXPECT_EQ(ssl->Int(0, 0), ssl->Int(0, 1));
  s.Stop();

  // A CA that did not sign the server's certificate: keyward does not start.
  testing::RunResult refused = testing::Run(
      {testing::KeywardBinary(), "--db", server + "/keyward?sslmode=verify-full&sslrootcert=" + certs + "/other-ca.pem",
       "serve", "--listen", "127.0.0.1:0"},
      "", env);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("certificate verify failed"), std::string::npos) << refused.err;
}

TEST(TlsSettings, BadCertificateFilesStopTheServerWithAClearError) {
  testing::TempDir dir;
  const std::string c = Certs();
  std::filesystem::copy_file(c + "/server.key", dir.File("open.key"));
  std::filesystem::permissions(dir.File("open.key"), std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  std::filesystem::copy_file(c + "/server.key", dir.File("group.key"));
  std::filesystem::permissions(dir.File("group.key"), std::filesystem::perms::group_read,
                               std::filesystem::perm_options::add);
  struct Case {
    std::string cert, key, expect;
  };
  for (const Case& k : {Case{c + "/server.pem", dir.File("open.key"), "may be read by any user"},
                        Case{c + "/server.pem", c + "/server2.key", "does not belong to the certificate"},
                        Case{c + "/server.pem", "", "needs both tls_cert and tls_key"},
                        Case{dir.File("missing.pem"), c + "/server.key", "missing.pem"}}) {
    testing::RunResult r = testing::Run(
        {testing::KeywardBinary(), "--db", dir.File("k.db"), "serve", "--listen", "127.0.0.1:0"}, "",
        {"KEYWARD_TLS_CERT=" + k.cert, "KEYWARD_TLS_KEY=" + k.key, "KEYWARD_ADMIN_TOKEN=test-admin-token-0123456789"});
    EXPECT_EQ(r.exit_code, 2) << k.expect << ": " << r.err;
    EXPECT_NE(r.err.find(k.expect), std::string::npos) << r.err;
  }
  // Group-readable (Debian's ssl-cert group, 0640) is allowed.
  testing::ServerProcess ok(dir.File("k.db"), dir.File("a.log"), {},
                            {"KEYWARD_TLS_CERT=" + c + "/server.pem", "KEYWARD_TLS_KEY=" + dir.File("group.key")});
  EXPECT_TRUE(ok.started()) << ok.Errors();
}

}  // namespace
}  // namespace keyward
