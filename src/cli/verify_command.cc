// verify_command.cc: `keyward verify KEY|- [--scope S]... [--env live|test]`.
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "api/wire.h"
#include "cli/cli.h"
#include "keyward/verifier.h"

namespace keyward::cli {
namespace {

struct VerifyArgs {
  std::string key;
  std::vector<std::string> scopes;
  std::string env;
};

std::string Trim(std::string s) {
  auto notspace = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), notspace));
  s.erase(std::find_if(s.rbegin(), s.rend(), notspace).base(), s.end());
  return s;
}

int RunVerify(Cli& cli, VerifyArgs& a, const CLI::App& sub) {
  const bool from_stdin = a.key == "-";
  if (from_stdin) {
    // Reading from stdin keeps the key out of shell history and `ps`.
    std::getline(std::cin, a.key);
    a.key = Trim(a.key);
  }
  VerifyRequest req;
  req.key = a.key;
  req.required_scopes = a.scopes;
  if (sub.count("--env")) {
    req.required_environment = ParseEnvironment(a.env);
    if (!req.required_environment) {
      std::cerr << "keyward: invalid --env '" << a.env << "': use live or test\n";
      return kExitUsage;
    }
  }
  if (!from_stdin && !cli.json) {
    std::cerr << "keyward: hint: a key on the command line is visible in `ps` and shell history; "
                 "give - and pass the key on standard input instead\n";
  }
  store::Backend* st = cli.store();
  if (!st) return kExitStorage;
  Verifier verifier(st->keys(), cli.clock());
  StatusOr<Verification> v = verifier.Verify(req);
  if (!v.ok()) return cli.Fail(v.status());
  if (cli.json) {
    cli.PrintJson(api::VerificationJson(*v));
  } else if (v->valid()) {
    const Principal& p = *v->principal;
    std::cout << "VALID: " << EnvironmentName(p.environment) << " key " << p.key_id
              << " of user " << p.user_id;
    if (p.external_id) std::cout << " (external id " << *p.external_id << ")";
    std::cout << "\n";
  } else {
    std::cout << VerifyOutcomeName(v->outcome) << ": the key was refused\n";
  }
  return v->valid() ? kExitOk : kExitRefused;
}

}  // namespace

void AddVerifyCommand(CLI::App& app, Cli& cli) {
  auto a = std::make_shared<VerifyArgs>();
  CLI::App* verify = app.add_subcommand(
      "verify", "Check a key: exit 0 if VALID, 1 if refused (prints the outcome code)");
  verify->add_option("KEY", a->key, "The key, or - to read it from standard input")->required();
  verify->add_option("--scope", a->scopes, "A scope the key must hold (repeatable)");
  verify->add_option("--env", a->env, "Require this environment: live or test");
  verify->callback([&cli, a, verify] { cli.action = [&cli, a, verify] { return RunVerify(cli, *a, *verify); }; });
}

}  // namespace keyward::cli
