// user_commands.cc: `keyward user add|list|show|disable|enable|delete`.
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "api/wire.h"
#include "cli/cli.h"
#include "cli/output.h"

namespace keyward::cli {
namespace {

struct UserAddArgs {
  std::string name;
  std::string external_id;
  std::string email;
  bool no_key = false;
  std::int64_t monthly_credits = -1;
  double rate_limit = 0;
  double test_rate_limit = 0;
  std::vector<std::string> allowed_scopes;
  bool require_signature = false;
};

int RunUserAdd(Cli& cli, const UserAddArgs& a, const CLI::App& sub) {
  auth::CreateUserRequest req;
  req.name = a.name;
  if (sub.count("--external-id")) req.external_id = a.external_id;
  if (sub.count("--email")) req.email = a.email;
  if (sub.count("--monthly-credits")) req.plan.monthly_credits = a.monthly_credits;
  if (sub.count("--rate-limit")) req.plan.rate_limit = a.rate_limit;
  if (sub.count("--test-rate-limit")) req.plan.test_rate_limit = a.test_rate_limit;
  if (!a.allowed_scopes.empty()) req.plan.allowed_scopes = a.allowed_scopes;
  req.plan.require_signature = a.require_signature;
  req.issue_key = !a.no_key;
  auth::Accounts* accounts = cli.accounts();
  if (!accounts) return kExitStorage;
  StatusOr<auth::CreatedUser> created = accounts->CreateUser(req);
  if (!created.ok()) return cli.Fail(created.status());
  if (cli.json) {
    cli.PrintJson(api::CreatedUserJson(*created, cli.clock().Now()));
    return kExitOk;
  }
  std::cout << "Created user " << created->user.id << " (" << created->user.name << ").\n";
  if (created->key) {
    std::cout << "Issued live key " << created->key->record.id << ":\n\n    "
              << created->key->secret << "\n\n"
              << "Store it now: keyward keeps only its hash and will never show it again.\n";
  } else {
    std::cout << "No key issued (--no-key); issue one with: keyward key issue "
              << created->user.id << "\n";
  }
  return kExitOk;
}

// Runs `fn(accounts, store, id)` -> StatusOr<User>, then prints the user.
template <typename Fn>
int WithUser(Cli& cli, const std::string& id, Fn fn) {
  auth::Accounts* accounts = cli.accounts();
  if (!accounts) return kExitStorage;
  StatusOr<User> user = fn(*accounts, cli.store()->keys(), id);
  if (!user.ok()) return cli.Fail(user.status());
  if (cli.json) {
    cli.PrintJson(nlohmann::json{{"user", api::UserJson(*user)}});
  } else {
    std::cout << DescribeUser(*user);
  }
  return kExitOk;
}

}  // namespace

void AddUserCommands(CLI::App& app, Cli& cli) {
  CLI::App* user = app.add_subcommand("user", "Create, inspect, disable and delete users");
  user->require_subcommand(1);

  auto add_args = std::make_shared<UserAddArgs>();
  CLI::App* add = user->add_subcommand("add", "Create a user; issues a first live key unless --no-key");
  add->add_option("NAME", add_args->name, "Display name")->required();
  add->add_option("--external-id", add_args->external_id, "The user's id in your own app (unique)");
  add->add_option("--email", add_args->email, "Contact address");
  add->add_flag("--no-key", add_args->no_key, "Do not issue a first key");
  add->add_option("--monthly-credits", add_args->monthly_credits,
                  "Live credits per calendar month (default: unlimited)");
  add->add_option("--rate-limit", add_args->rate_limit,
                  "Live requests per second (default: unlimited)");
  add->add_option("--test-rate-limit", add_args->test_rate_limit,
                  "Test-environment requests per second (default: the server's test_rate_limit)");
  add->add_flag("--require-signature", add_args->require_signature,
                "Every key of this user must sign its requests (RFC 9421); bearer use is refused");
  add->add_option("--allow-scope", add_args->allowed_scopes,
                  "A scope this user's keys may hold (repeatable; default: any)");
  add->callback([&cli, add_args, add] { cli.action = [&cli, add_args, add] { return RunUserAdd(cli, *add_args, *add); }; });

  auto page = std::make_shared<PageRequest>();
  CLI::App* list = user->add_subcommand("list", "List users, oldest first");
  AddPageOptions(list, page.get());
  list->callback([&cli, page] {
    cli.action = [&cli, page] {
      store::Backend* st = cli.store();
      if (!st) return int{kExitStorage};
      StatusOr<Page<User>> users = st->keys().ListUsers(*page);
      if (!users.ok()) return cli.Fail(users.status());
      if (cli.json) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& u : users->items) arr.push_back(api::UserJson(u));
        cli.PrintJson(api::PageJson("users", std::move(arr), users->next));
      } else if (users->items.empty()) {
        std::cout << (page->after.empty() ? "No users yet. Create one with: keyward user add NAME\n"
                                          : "No more users.\n");
      } else {
        std::cout << UserTable(users->items) << NextPageHint(users->next);
      }
      return int{kExitOk};
    };
  });

  auto id = std::make_shared<std::string>();
  auto user_cmd = [&](const char* name, const char* help, auto fn) {
    CLI::App* c = user->add_subcommand(name, help);
    c->add_option("USER_ID", *id, "usr_… id")->required();
    c->callback([&cli, id, fn] { cli.action = [&cli, id, fn] { return WithUser(cli, *id, fn); }; });
  };
  user_cmd("show", "Show one user", [](auth::Accounts&, KeyStore& st, const std::string& uid) {
    return st.GetUser(uid);
  });
  user_cmd("disable", "Disable a user: every key of theirs is refused (USER_DISABLED)",
           [](auth::Accounts& svc, KeyStore&, const std::string& uid) {
             auth::UserUpdate u;
             u.disabled = true;
             return svc.UpdateUser(uid, u);
           });
  user_cmd("enable", "Enable a disabled user",
           [](auth::Accounts& svc, KeyStore&, const std::string& uid) {
             auth::UserUpdate u;
             u.disabled = false;
             return svc.UpdateUser(uid, u);
           });
  for (bool require : {true, false}) {
    user_cmd(require ? "require-signature" : "allow-bearer",
             require ? "Refuse this user's keys as bearer Api-Keys: signed requests only (RFC 9421)"
                     : "Accept this user's keys as bearer Api-Keys again",
             [require](auth::Accounts& svc, KeyStore&, const std::string& uid) {
               auth::UserUpdate u;
               u.require_signature = require;
               return svc.UpdateUser(uid, u);
             });
  }

  CLI::App* del = user->add_subcommand("delete", "Delete a user with all their keys, jobs and usage");
  del->add_option("USER_ID", *id, "usr_… id")->required();
  del->callback([&cli, id] {
    cli.action = [&cli, id] {
      auth::Accounts* accounts = cli.accounts();
      if (!accounts) return int{kExitStorage};
      Status st = accounts->DeleteUser(*id);
      if (!st.ok()) return cli.Fail(st);
      if (cli.json) {
        cli.PrintJson(api::DeletedJson(*id));
      } else {
        std::cout << "Deleted user " << *id << " and all of their keys.\n";
      }
      return int{kExitOk};
    };
  });
}

}  // namespace keyward::cli
