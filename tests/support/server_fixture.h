// server_fixture.h: a test fixture with a fresh database and a running
// `keyward serve`, plus helpers that create users and keys over HTTP.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "support/http_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace keyward::testing {

struct CreatedUser {
  std::string id;
  std::string key;     // secret of the first live key ("" if none)
  std::string key_id;
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }

  void Start(std::vector<std::string> args = {}, std::vector<std::string> env = {}) {
    server_ = std::make_unique<ServerProcess>(db_, log_, std::move(args), std::move(env));
    ASSERT_TRUE(server_->started()) << server_->Errors();
  }
  const std::string& addr() const { return server_->address(); }

  nlohmann::json Json(const HttpReply& r) {
    nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.status << " " << r.body;
    return j;
  }

  HttpReply Admin(const std::string& method, const std::string& path, const std::string& body = "") {
    HttpConnection c(addr());
    return c.Send(method, path, {AdminAuth()}, body);
  }

  CreatedUser NewUser(nlohmann::json body = {{"name", "Acme"}}) {
    HttpReply r = Admin("POST", "/v1/users", body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    nlohmann::json j = Json(r);
    CreatedUser u;
    u.id = j["user"]["id"];
    if (!j["key"].is_null()) {
      u.key = j["key"]["secret"];
      u.key_id = j["key"]["id"];
    }
    return u;
  }

  // Issues a key; returns {secret, id}.
  std::pair<std::string, std::string> Issue(const std::string& user_id, nlohmann::json body = nlohmann::json::object()) {
    HttpReply r = Admin("POST", "/v1/users/" + user_id + "/keys", body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    nlohmann::json j = Json(r);
    return {j["key"]["secret"], j["key"]["id"]};
  }

  HttpReply Authz(const std::string& key, const std::string& query = "") {
    return HttpGet(addr(), "/v1/authz" + query, {KeyAuth(key)});
  }

  nlohmann::json Verify(nlohmann::json body) {
    HttpReply r = HttpPost(addr(), "/v1/keys/verify", body.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return Json(r);
  }

  HttpReply SubmitJob(const std::string& key, const std::string& job_id,
                      const std::string& task = "echo",
                      nlohmann::json payload = {{"n", 1}}) {
    return HttpPost(addr(), "/v1/ai/jobs",
                    nlohmann::json{{"job_id", job_id}, {"task", task}, {"payload", payload}}.dump(),
                    {KeyAuth(key)});
  }

  TempDir dir_;
  std::string db_ = dir_.File("keyward.db");
  std::string log_ = dir_.File("access.log");
  std::unique_ptr<ServerProcess> server_;
};

}  // namespace keyward::testing
