// Signed requests against an independent RFC 9421 implementation: the npm
// package http-message-signatures (tools/node, pinned) signs requests that
// keyward accepts as the key's user — through the compute API, with replay
// and tampering refused — and verifies the signatures keyward's own signer
// makes. tests/interop/http_message_signatures.mjs does the package's part.
#include <gtest/gtest.h>

#include <fstream>

#include "support/server_fixture.h"
#include "support/subprocess.h"

namespace keyward {
namespace {

using nlohmann::json;

class Interop : public testing::ServerTest {
 protected:
  std::vector<std::string> Env(const testing::CreatedUser& u) {
    return {"KEYWARD_API_KEY=" + u.key, "KEYWARD_KEY_ID=" + u.key_id,
            std::string("KEYWARD_NODE_TOOLS=") + KEYWARD_NODE_TOOLS};
  }
  testing::RunResult Node(const std::vector<std::string>& args, const testing::CreatedUser& u) {
    std::vector<std::string> argv = {KEYWARD_NODE, std::string(KEYWARD_SOURCE_DIR) + "/tests/interop/http_message_signatures.mjs"};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::Run(argv, "", Env(u));
  }
};

TEST_F(Interop, RequestsSignedByHttpMessageSignaturesAuthenticateAsTheKeysUser) {
  testing::CreatedUser u = NewUser({{"name", "Interop"}});
  testing::RunResult r = Node({"sign-and-send", "http://" + addr()}, u);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  json out = json::parse(r.out);
  EXPECT_EQ(out["submit"]["status"], 201) << out;
  EXPECT_EQ(out["submit"]["body"]["job"]["user_id"], u.id);
  EXPECT_EQ(out["submit"]["body"]["job"]["key_id"], u.key_id);
  EXPECT_EQ(out["replay"]["status"], 401);
  EXPECT_EQ(out["replay"]["body"]["error"]["code"], "REPLAYED");
  EXPECT_EQ(out["read"]["status"], 200) << out["read"];
  EXPECT_EQ(out["read"]["body"]["job"]["job_id"], "interop-1");
  EXPECT_EQ(out["parts"]["status"], 200) << out["parts"];  // @authority, @path, @query
  EXPECT_EQ(out["tampered"]["status"], 401);
  EXPECT_EQ(out["tampered"]["body"]["error"]["code"], "SIGNATURE_INVALID");
}

TEST_F(Interop, HttpMessageSignaturesVerifiesWhatKeywardSigns) {
  testing::CreatedUser u = NewUser({{"name", "Interop"}});
  const std::string body_file = dir_.File("body.json"), headers_file = dir_.File("headers.json");
  std::ofstream(body_file) << R"({"job_id":"x","task":"echo","payload":{}})";
  testing::RunResult s = testing::Run({testing::KeywardBinary(), "--json", "sign", "-X", "POST", "--data-file",
                                       body_file, "https://api.example.com/v1/ai/jobs?x=1"},
                                      u.key + "\n", {"KEYWARD_KEY_ID=" + u.key_id});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  std::ofstream(headers_file) << s.out;
  auto verified = [&](const std::string& method, const std::string& url, const std::string& body) {
    testing::RunResult v = Node({"verify", method, url, body, headers_file}, u);
    EXPECT_EQ(v.exit_code, 0) << v.err;
    return json::parse(v.out, nullptr, false)["verified"] == true;
  };
  EXPECT_TRUE(verified("POST", "https://api.example.com/v1/ai/jobs?x=1", body_file));
  EXPECT_FALSE(verified("PUT", "https://api.example.com/v1/ai/jobs?x=1", body_file));
  EXPECT_FALSE(verified("POST", "https://api.example.com/v1/ai/jobs?x=2", body_file));
  const std::string other = dir_.File("other.json");
  std::ofstream(other) << R"({"job_id":"y"})";
  EXPECT_FALSE(verified("POST", "https://api.example.com/v1/ai/jobs?x=1", other));
}

}  // namespace
}  // namespace keyward
