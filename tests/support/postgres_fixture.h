// postgres_fixture.h: a database of its own for each PostgreSQL test, on
// the throwaway server that ctest's `postgres` fixture started
// (tests/support/pg-cluster). The database is dropped when the test ends.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

#include "store/postgres/connection.h"

namespace keyward::testing {

// Creates a fresh database on the test server; drops it when destroyed.
class PostgresDatabase {
 public:
  // Fails the current test when the server is not there.
  void Create() {
    const char* state = std::getenv("KEYWARD_TEST_POSTGRES");
    ASSERT_NE(state, nullptr) << "run through ctest: the postgres fixture starts the server";
    std::ifstream in(state);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line[0] != '#') server_ = line;
    }
    ASSERT_FALSE(server_.empty()) << "no server in " << state;
    auto admin = store::postgres::Conn::Open({.conninfo = server_ + "/postgres"});
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    std::string name = "kwt_" + std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}());
    ASSERT_TRUE((*admin)->Run("CREATE DATABASE " + name).ok());
    name_ = name;
  }
  ~PostgresDatabase() {
    if (name_.empty()) return;
    auto admin = store::postgres::Conn::Open({.conninfo = server_ + "/postgres"});
    if (admin.ok()) (void)(*admin)->Run("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }

  // The database's URI (postgresql://…/name), for libpq and --db alike.
  std::string Uri() const { return server_ + "/" + name_; }

 private:
  std::string server_;  // the server's URI, without a database
  std::string name_;
};

class PostgresTest : public ::testing::Test {
 protected:
  void SetUp() override { db_.Create(); }
  std::string ConnInfo() const { return db_.Uri(); }

 private:
  PostgresDatabase db_;
};

}  // namespace keyward::testing
