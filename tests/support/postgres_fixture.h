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

class PostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* state = std::getenv("KEYWARD_TEST_POSTGRES");
    ASSERT_NE(state, nullptr) << "run through ctest: the postgres fixture starts the server";
    std::ifstream in(state);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line[0] != '#') server_ = line;
    }
    ASSERT_FALSE(server_.empty()) << "no server in " << state;
    name_ = "kwt_" + std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}());
    auto admin = store::postgres::Conn::Open({.conninfo = server_});
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    ASSERT_TRUE((*admin)->Run("CREATE DATABASE " + name_).ok());
  }

  void TearDown() override {
    if (name_.empty()) return;
    auto admin = store::postgres::Conn::Open({.conninfo = server_});
    if (admin.ok()) (void)(*admin)->Run("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }

  // A connection string for this test's database.
  std::string ConnInfo() const { return server_ + " dbname=" + name_; }

 private:
  std::string server_;  // the server's connection string (database postgres)
  std::string name_;
};

}  // namespace keyward::testing
