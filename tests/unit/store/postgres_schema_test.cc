// PostgreSQL migrations: nodes starting together apply them exactly once
// (advisory lock); a schema one version ahead is accepted and reported, a
// schema further ahead is refused without being touched.
#include "store/postgres/schema.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "store/migrations.h"
#include "store/postgres/connection.h"
#include "support/postgres_fixture.h"

namespace keyward::store::postgres {
namespace {

class PgSchemaTest : public testing::PostgresTest {
 protected:
  std::unique_ptr<Conn> Connect() {
    auto c = Conn::Open({.conninfo = ConnInfo()});
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }
};

TEST_F(PgSchemaTest, NodesStartingTogetherMigrateOnce) {
  std::vector<StatusOr<SchemaState>> results(4, InternalError("not run"));
  std::vector<std::thread> nodes;
  for (auto& r : results) {
    nodes.emplace_back([&r, this] {
      auto c = Connect();
      if (c) r = Migrate(*c);
    });
  }
  for (auto& t : nodes) t.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->version, LatestSchemaVersion());
    EXPECT_FALSE(r->ahead);
  }
  auto c = Connect();
  ASSERT_TRUE(c);
  StatusOr<Result> rows = c->Exec("SELECT count(*), max(version) FROM schema_version");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->Int(0, 0), static_cast<std::int64_t>(Migrations().size()));
  EXPECT_EQ(rows->Int(0, 1), LatestSchemaVersion());
}

TEST_F(PgSchemaTest, OneVersionAheadIsAcceptedAndTwoAreRefused) {
  auto c = Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(Migrate(*c).ok());
  const std::string next = std::to_string(LatestSchemaVersion() + 1);
  ASSERT_TRUE(c->Exec("INSERT INTO schema_version (version, name) VALUES ($1, 'from a newer node')",
                      {next}).ok());
  StatusOr<SchemaState> ahead = Migrate(*c);
  ASSERT_TRUE(ahead.ok()) << ahead.status().ToString();
  EXPECT_TRUE(ahead->ahead);
  EXPECT_EQ(ahead->version, LatestSchemaVersion() + 1);

  const std::string too_far = std::to_string(LatestSchemaVersion() + 2);
  ASSERT_TRUE(c->Exec("INSERT INTO schema_version (version, name) VALUES ($1, 'from the future')",
                      {too_far}).ok());
  StatusOr<SchemaState> refused = Migrate(*c);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("upgrade keyward"), std::string::npos);
  StatusOr<Result> rows = c->Exec("SELECT count(*) FROM schema_version");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->Int(0, 0), static_cast<std::int64_t>(Migrations().size()) + 2);
}

TEST_F(PgSchemaTest, AFailingMigrationLeavesNothingBehind) {
  auto c = Connect();
  ASSERT_TRUE(c);
  // A table in the way of the first migration: it fails, and the whole
  // attempt (the version table included) is rolled back.
  ASSERT_TRUE(c->Run("CREATE TABLE users (id int)").ok());
  StatusOr<SchemaState> r = Migrate(*c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("migration"), std::string::npos) << r.status().message();
  StatusOr<Result> t = c->Exec("SELECT to_regclass('schema_version') IS NULL");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->Text(0, 0), "t");
}

}  // namespace
}  // namespace keyward::store::postgres
