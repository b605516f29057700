// The libpq layer against a real PostgreSQL server: parameters and NULLs,
// prepared statements reused, SQLSTATEs mapped to statuses, transactions
// that roll back unless committed, the statement timeout, and a pool that
// bounds its connections and replaces a lost one.
#include "store/postgres/connection.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "support/postgres_fixture.h"

namespace keyward::store::postgres {
namespace {

class PgConnTest : public testing::PostgresTest {
 protected:
  std::unique_ptr<Conn> Connect(int statement_timeout_ms = 5000) {
    auto c = Conn::Open({.conninfo = ConnInfo(), .statement_timeout_ms = statement_timeout_ms});
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }
};

TEST_F(PgConnTest, ParametersNullsAndIntegersRoundTrip) {
  auto c = Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Run("CREATE TABLE t (id bigint PRIMARY KEY, name text)").ok());
  for (int i = 0; i < 3; ++i) {  // one text: prepared once, executed three times
    std::optional<std::string> name;
    if (i != 1) name = "n'" + std::to_string(i);  // a quote travels as data
    StatusOr<Result> r = c->Exec("INSERT INTO t (id, name) VALUES ($1, $2)", {std::to_string(i), name});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->affected(), 1);
  }
  StatusOr<Result> r = c->Exec("SELECT id, name FROM t ORDER BY id");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->rows(), 3);
  ASSERT_EQ(r->columns(), 2);
  EXPECT_EQ(r->Int(2, 0), 2);
  EXPECT_EQ(r->OptText(0, 1), "n'0");
  EXPECT_FALSE(r->OptText(1, 1).has_value());
  StatusOr<Result> prepared = c->Exec("SELECT count(*) FROM pg_prepared_statements");
  ASSERT_TRUE(prepared.ok());
  EXPECT_EQ(prepared->Int(0, 0), 3);  // the INSERT, the SELECT and this one
}

TEST_F(PgConnTest, ErrorsMapToStatuses) {
  auto c = Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Run("CREATE TABLE u (id text PRIMARY KEY, n int CHECK (n >= 0));"
                     "CREATE TABLE k (id text PRIMARY KEY, u text NOT NULL REFERENCES u(id))").ok());
  ASSERT_TRUE(c->Exec("INSERT INTO u VALUES ($1, 1)", {"a"}).ok());
  EXPECT_EQ(c->Exec("INSERT INTO u VALUES ($1, 1)", {"a"}).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(c->Exec("INSERT INTO k VALUES ($1, $2)", {"k", "nobody"}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(c->Exec("INSERT INTO u VALUES ($1, -1)", {"b"}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(c->Exec("SELECT $1::int", {"not a number"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c->Exec("SELEKT 1").status().code(), StatusCode::kInternal);
  EXPECT_TRUE(c->ok());  // errors leave the connection usable
  EXPECT_TRUE(c->Exec("SELECT 1").ok());
}

TEST_F(PgConnTest, ATransactionRollsBackUnlessCommitted) {
  auto c = Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Run("CREATE TABLE t (id int)").ok());
  {
    Transaction tx(*c);
    ASSERT_TRUE(tx.Begin().ok());
    ASSERT_TRUE(c->Exec("INSERT INTO t VALUES (1)").ok());
  }  // no Commit(): rolled back
  {
    Transaction tx(*c);
    ASSERT_TRUE(tx.Begin().ok());
    ASSERT_TRUE(c->Exec("INSERT INTO t VALUES (2)").ok());
    ASSERT_TRUE(tx.Commit().ok());
  }
  StatusOr<Result> r = c->Exec("SELECT id FROM t");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->rows(), 1);
  EXPECT_EQ(r->Int(0, 0), 2);
}

TEST_F(PgConnTest, TheStatementTimeoutEndsALongStatement) {
  auto c = Connect(/*statement_timeout_ms=*/100);
  ASSERT_TRUE(c);
  Status st = c->Exec("SELECT pg_sleep(30)").status();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("statement timeout"), std::string::npos) << st.message();
  EXPECT_TRUE(c->Exec("SELECT 1").ok());
}

TEST_F(PgConnTest, AnUnreachableServerIsUnavailable) {
  // Port 1 is privileged and nothing listens there; then a user the
  // server does not know.
  auto c = Conn::Open({.conninfo = "host=127.0.0.1 port=1 user=keyward dbname=postgres",
                       .connect_timeout_s = 2});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  auto bad = Conn::Open({.conninfo = ConnInfo() + " user=nobody_here"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kUnavailable);
}

TEST_F(PgConnTest, ThePoolBoundsItsConnectionsAndReplacesALostOne) {
  Pool pool({.conninfo = ConnInfo()}, /*size=*/3);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        StatusOr<Pool::Lease> lease = pool.Acquire();
        if (!lease.ok() || !(*lease)->Exec("SELECT pg_backend_pid()").ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(pool.open(), 3);

  // Kill one pooled connection's backend from another session: the pool
  // notices when it comes back and opens a new one in its place.
  std::string pid;
  {
    StatusOr<Pool::Lease> lease = pool.Acquire();
    ASSERT_TRUE(lease.ok());
    pid = (*lease)->Exec("SELECT pg_backend_pid()")->Text(0, 0);
    auto other = Conn::Open({.conninfo = ConnInfo()});
    ASSERT_TRUE(other.ok());
    ASSERT_TRUE((*other)->Exec("SELECT pg_terminate_backend($1::int)", {pid}).ok());
    EXPECT_FALSE((*lease)->Exec("SELECT 1").ok());
    EXPECT_FALSE((*lease)->ok());
  }
  const int open_after_loss = pool.open();
  std::vector<Pool::Lease> all;
  for (int i = 0; i < 3; ++i) {
    StatusOr<Pool::Lease> lease = pool.Acquire();
    ASSERT_TRUE(lease.ok());
    StatusOr<Result> r = (*lease)->Exec("SELECT pg_backend_pid()");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_NE(r->Text(0, 0), pid);
    all.push_back(std::move(lease).value());
  }
  EXPECT_LT(open_after_loss, 3);
  EXPECT_EQ(pool.open(), 3);
}

}  // namespace
}  // namespace keyward::store::postgres
