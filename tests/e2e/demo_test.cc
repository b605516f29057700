// The main job (`make run`, scripts/demo) checked by its facts, not its
// wording: who each job ran as, what was charged, and the revoked job.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/subprocess.h"
#include "support/temp_dir.h"

namespace keyward {
namespace {

using nlohmann::json;

TEST(Demo, TheWholeStoryHoldsItsFacts) {
  testing::TempDir dir;
  std::string summary = dir.File("summary.json");
  testing::RunResult r = testing::Run(
      {"/bin/bash", std::string(KEYWARD_SOURCE_DIR) + "/scripts/demo", testing::KeywardBinary()}, "",
      {"KEYWARD_DEMO_SUMMARY=" + summary, "KEYWARD_DB=", "KEYWARD_ADMIN_TOKEN="});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  json s = json::parse(testing::ReadFileBytes(summary), nullptr, false);
  ASSERT_TRUE(s.is_object()) << r.out;
  const std::string acme = s["acme"], globex = s["globex"];

  std::map<std::string, json> jobs;
  for (const auto& j : s["jobs"]) jobs[j["job_id"]] = j;
  ASSERT_EQ(jobs.size(), 7u) << s["jobs"];  // acme-late never reached the compute side
  for (const char* id : {"acme-report", "acme-hash", "acme-cli", "acme-staging"}) {
    EXPECT_EQ(jobs[id]["user_id"], acme) << id;
    EXPECT_EQ(jobs[id]["status"], "succeeded") << id;
  }
  for (const char* id : {"globex-echo", "globex-cli", "globex-signed"}) EXPECT_EQ(jobs[id]["user_id"], globex) << id;
  EXPECT_EQ(jobs["globex-signed"]["status"], "succeeded");  // once: its replay was refused
  EXPECT_EQ(jobs["acme-staging"]["environment"], "test");
  EXPECT_EQ(jobs["acme-report"]["environment"], "live");

  int failed = 0;
  for (const auto& q : s["queue"]) {
    if (q["job_id"] == "acme-late") {
      EXPECT_EQ(q["status"], "failed");
      EXPECT_EQ(q["last_error"].get<std::string>().rfind("REVOKED", 0), 0u);
      ++failed;
    } else {
      EXPECT_EQ(q["status"], "done") << q;
    }
  }
  EXPECT_EQ(failed, 1);
  // wordcount 2 + sha256 1 + wordcount 2 = 5 live for Acme; echo 1 test; 1 + 1 + 1 (the
  // signed echo, charged once) for Globex.
  EXPECT_EQ(s["usage"][acme + "/live"], 5);
  EXPECT_EQ(s["usage"][acme + "/test"], 1);
  EXPECT_EQ(s["usage"][globex + "/live"], 3);
  EXPECT_EQ(s["server_exit"], 0);
}

}  // namespace
}  // namespace keyward
