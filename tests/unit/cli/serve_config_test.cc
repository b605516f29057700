// Tests for the settings of `keyward serve` (src/cli/serve_config.h).
#include "cli/serve_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace keyward::cli {
namespace {

std::string Show(const ServeConfig& c, const std::string& name) {
  for (const Setting& s : ServeSettings()) {
    if (s.name == name) return s.show(c);
  }
  return "<none>";
}

TEST(ServeConfig, DefaultsComeFromThePartsOwnOptions) {
  ServeConfig c;
  EXPECT_EQ(c.server.read_timeout_ms, http::ServerOptions{}.read_timeout_ms);
  EXPECT_EQ(Show(c, "read_timeout"), "30s");
  EXPECT_EQ(Show(c, "cache_ttl"), "5s");
  EXPECT_EQ(Show(c, "listen"), "127.0.0.1:8080");
  EXPECT_EQ(Show(c, "db"), "keyward.db");
  EXPECT_EQ(Show(c, "max_pending_jobs_per_user"), std::to_string(compute::ComputeOptions{}.max_pending_per_user));
  EXPECT_EQ(Show(c, "test_rate_limit"), "50");
  EXPECT_EQ(Show(c, "legacy_checks_per_second"), "10");
  EXPECT_EQ(Show(c, "legacy_failure_backoff"), "1s");
}

TEST(ServeConfig, TlsFilesAreSettingsAndPlainHttpBeyondLoopbackIsNamed) {
  ServeConfig c;
  EXPECT_FALSE(c.server.tls.enabled());
  ASSERT_TRUE(ApplySetting(&c, "tls_cert", "/etc/keyward/cert.pem", "t").ok());
  ASSERT_TRUE(ApplySetting(&c, "tls_key", "/etc/keyward/key.pem", "t").ok());
  ASSERT_TRUE(ApplySetting(&c, "tls_client_ca", "/etc/keyward/clients.pem", "t").ok());
  EXPECT_TRUE(c.server.tls.enabled());
  EXPECT_EQ(c.server.tls.client_ca_file, "/etc/keyward/clients.pem");
  EXPECT_EQ(Show(c, "plain_listen"), "");
  ASSERT_TRUE(ApplySetting(&c, "plain_listen", "127.0.0.1:8081", "t").ok());
  EXPECT_EQ(c.server.plain_port, 8081);
  EXPECT_EQ(Show(c, "plain_listen"), "127.0.0.1:8081");
  EXPECT_FALSE(ApplySetting(&c, "plain_listen", "nohostport", "t").ok());
  for (const char* local : {"127.0.0.1", "127.1.2.3", "::1", "localhost"}) EXPECT_TRUE(IsLoopbackHost(local)) << local;
  for (const char* wide : {"0.0.0.0", "::", "10.0.0.5", "192.168.1.1", "fe80::1"}) {
    EXPECT_FALSE(IsLoopbackHost(wide)) << wide;
  }
}

TEST(ServeConfig, TheBoundsOnImportedKeyChecksAreSettings) {
  ServeConfig c;
  ASSERT_TRUE(ApplySetting(&c, "legacy_checks_per_second", "2.5", "t").ok());
  EXPECT_EQ(c.service.verifier.legacy_checks_per_second, 2.5);
  ASSERT_TRUE(ApplySetting(&c, "legacy_failure_backoff", "5s", "t").ok());
  EXPECT_EQ(c.service.verifier.legacy_failure_backoff_ms, 5000);
  EXPECT_FALSE(ApplySetting(&c, "legacy_checks_per_second", "0", "t").ok());
  EXPECT_FALSE(ApplySetting(&c, "legacy_failure_backoff", "2h", "t").ok());
}

TEST(ServeConfig, DurationsTakeTheOneSyntaxOrMilliseconds) {
  ServeConfig c;
  ASSERT_TRUE(ApplySetting(&c, "read_timeout", "1500ms", "test").ok());
  EXPECT_EQ(c.server.read_timeout_ms, 1500);
  ASSERT_TRUE(ApplySetting(&c, "read_timeout_ms", "2000", "test").ok());
  EXPECT_EQ(c.server.read_timeout_ms, 2000);
  ASSERT_TRUE(ApplySetting(&c, "cache_ttl", "0s", "test").ok());
  EXPECT_EQ(c.service.verifier.cache_ttl_ms, 0);
  for (const char* bad : {"", "5", "-1s", "2h", "1.5s", "soon"}) {
    Status st = ApplySetting(&c, "read_timeout", bad, "KEYWARD_READ_TIMEOUT");
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(st.message().find("KEYWARD_READ_TIMEOUT"), std::string::npos);
  }
}

TEST(ServeConfig, BadValuesAndUnknownNamesAreRefused) {
  ServeConfig c;
  EXPECT_FALSE(ApplySetting(&c, "threads", "-1", "t").ok());
  EXPECT_FALSE(ApplySetting(&c, "threads", "1e3", "t").ok());
  EXPECT_FALSE(ApplySetting(&c, "admin_token", "short", "t").ok());
  EXPECT_FALSE(ApplySetting(&c, "listen", "nohostport", "t").ok());
  EXPECT_FALSE(ApplySetting(&c, "listen", "127.0.0.1:99999", "t").ok());
  EXPECT_FALSE(ApplySetting(&c, "test_rate_limit", "0", "t").ok());
  EXPECT_FALSE(ApplySetting(&c, "allow_core_dumps", "maybe", "t").ok());
  EXPECT_FALSE(ApplySetting(&c, "no_such_setting", "1", "t").ok());
  ASSERT_TRUE(ApplySetting(&c, "listen", "[::1]:0", "t").ok());
  EXPECT_EQ(c.server.host, "::1");
  EXPECT_EQ(Show(c, "listen"), "[::1]:0");
}

TEST(ServeConfig, TomlValuesOfEveryKindApply) {
  ServeConfig c;
  ASSERT_TRUE(ApplyToml(&c, R"(
listen = "0.0.0.0:9000"
threads = 2
test_rate_limit = 2.5
allow_core_dumps = true
idle_timeout = "2m"
)", "inline").ok());
  EXPECT_EQ(c.server.port, 9000);
  EXPECT_EQ(c.server.threads, 2);
  EXPECT_DOUBLE_EQ(c.service.gate.default_test_rate_limit, 2.5);
  EXPECT_TRUE(c.allow_core_dumps);
  EXPECT_EQ(c.server.idle_timeout_ms, 120'000);
  EXPECT_FALSE(ApplyToml(&c, "threads = [1, 2]", "inline").ok());
  EXPECT_FALSE(ApplyToml(&c, "listen = ", "inline").ok());
  EXPECT_FALSE(ApplyToml(&c, "[section]\nthreads = 1", "inline").ok());
}

TEST(ServeConfig, TheEnvironmentOverridesAndNamesItself) {
  ServeConfig c;
  setenv("KEYWARD_JOB_THREADS", "7", 1);
  EXPECT_TRUE(ApplyEnvironment(&c).ok());
  EXPECT_EQ(c.service.job_threads, 7);
  setenv("KEYWARD_JOB_THREADS", "zero", 1);
  Status st = ApplyEnvironment(&c);
  unsetenv("KEYWARD_JOB_THREADS");
  EXPECT_NE(st.message().find("KEYWARD_JOB_THREADS"), std::string::npos);
}

}  // namespace
}  // namespace keyward::cli
