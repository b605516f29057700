// key_commands.cc: `keyward key issue|list|show|revoke|revoke-all|rotate|delete`.
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "api/wire.h"
#include "cli/cli.h"
#include "cli/output.h"
#include "core/time_format.h"

namespace keyward::cli {
namespace {

struct KeyArgs {
  std::string id;  // USER_ID or KEY_ID, depending on the command
  std::string name = "default";
  bool test = false;
  bool require_signature = false;
  std::vector<std::string> scopes;
  std::string ttl;
  std::string expires;
  std::string grace = core::FormatDuration(auth::kDefaultGraceMs);
  PageRequest page;
};

int BadValue(const std::string& what) {
  std::cerr << "keyward: " << what << "\n";
  return kExitUsage;
}

void PrintSecretNotice(const ApiKey& key, const std::string& secret) {
  std::cout << "Issued " << EnvironmentName(key.environment) << " key " << key.id << " for user "
            << key.user_id << ":\n\n    " << secret << "\n\n"
            << "Store it now: keyward keeps only its hash and will never show it again.\n";
}

int RunIssue(Cli& cli, const KeyArgs& a, const CLI::App& sub) {
  auth::IssueKeyRequest req;
  req.user_id = a.id;
  req.name = a.name;
  req.environment = a.test ? Environment::kTest : Environment::kLive;
  req.scopes = a.scopes;
  req.require_signature = a.require_signature;
  if (sub.count("--ttl")) {
    std::optional<std::int64_t> ttl = core::ParseDuration(a.ttl, auth::kMaxTtlMs);
    if (!ttl || *ttl == 0) {
      return BadValue("invalid --ttl '" + a.ttl + "': use a duration such as 30d, 12h or 90s, at most " +
                      core::FormatDuration(auth::kMaxTtlMs));
    }
    req.ttl_ms = *ttl;
  }
  if (sub.count("--expires")) {
    std::optional<UnixMillis> at = core::ParseRfc3339(a.expires);
    if (!at) return BadValue("invalid --expires '" + a.expires + "': use RFC 3339, e.g. 2027-01-31T00:00:00Z");
    req.expires_at = *at;
  }
  auth::Accounts* accounts = cli.accounts();
  if (!accounts) return kExitStorage;
  StatusOr<auth::IssuedKey> key = accounts->IssueKey(req);
  if (!key.ok()) return cli.Fail(key.status());
  if (cli.json) {
    cli.PrintJson({{"key", api::IssuedKeyJson(*key, cli.clock().Now())}});
  } else {
    PrintSecretNotice(key->record, key->secret);
    if (key->record.expires_at) std::cout << "It expires at " << TimeOrDash(key->record.expires_at) << ".\n";
  }
  return kExitOk;
}

int RunRotate(Cli& cli, const KeyArgs& a) {
  std::optional<std::int64_t> grace = core::ParseDuration(a.grace, auth::kMaxGraceMs);
  if (!grace) {
    return BadValue("invalid --grace '" + a.grace + "': use a duration such as 24h, 15m or 0s, at most " +
                    core::FormatDuration(auth::kMaxGraceMs));
  }
  auth::Accounts* accounts = cli.accounts();
  if (!accounts) return kExitStorage;
  StatusOr<auth::RotatedKey> r = accounts->RotateKey(a.id, *grace);
  if (!r.ok()) return cli.Fail(r.status());
  if (cli.json) {
    cli.PrintJson(api::RotatedKeyJson(*r, cli.clock().Now()));
  } else {
    PrintSecretNotice(r->new_key.record, r->new_key.secret);
    std::cout << "It replaces " << r->old_key.id << ", which keeps working until "
              << TimeOrDash(r->old_key.expires_at) << ".\n";
  }
  return kExitOk;
}

int RunList(Cli& cli, const KeyArgs& a) {
  store::Backend* st = cli.store();
  if (!st) return kExitStorage;
  StatusOr<Page<ApiKey>> keys = st->keys().ListKeys(a.id, a.page);
  if (!keys.ok()) return cli.Fail(keys.status());
  UnixMillis now = cli.clock().Now();
  if (cli.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const ApiKey& k : keys->items) arr.push_back(api::KeyJson(k, now));
    cli.PrintJson(api::PageJson("keys", std::move(arr), keys->next));
  } else if (keys->items.empty()) {
    std::cout << "User " << a.id << " has no keys" << (a.page.after.empty() ? "" : " on this page") << ".\n";
  } else {
    std::cout << KeyTable(keys->items, now) << NextPageHint(keys->next);
  }
  return kExitOk;
}

int PrintKey(Cli& cli, const StatusOr<ApiKey>& key, const char* sentence) {
  if (!key.ok()) return cli.Fail(key.status());
  UnixMillis now = cli.clock().Now();
  if (cli.json) {
    cli.PrintJson({{"key", api::KeyJson(*key, now)}});
  } else {
    if (sentence) std::cout << sentence << " " << key->id << ".\n";
    std::cout << DescribeKey(*key, now);
  }
  return kExitOk;
}

}  // namespace

// --limit/--after for a listing.
void AddPageOptions(CLI::App* cmd, PageRequest* page) {
  cmd->add_option("--limit", page->limit, "At most this many (default " + std::to_string(kDefaultPageLimit) +
                                              ", at most " + std::to_string(kMaxPageLimit) + ")")
      ->check(CLI::Range(1, kMaxPageLimit));
  cmd->add_option("--after", page->after, "Continue after this cursor (from the previous page)");
}

void AddKeyCommands(CLI::App& app, Cli& cli) {
  CLI::App* key = app.add_subcommand("key", "Issue, list, revoke, rotate and delete API keys");
  key->require_subcommand(1);
  auto a = std::make_shared<KeyArgs>();

  CLI::App* issue = key->add_subcommand("issue", "Issue a new key for a user (the secret is shown once)");
  issue->add_option("USER_ID", a->id, "usr_… id")->required();
  issue->add_option("--name", a->name, "A label for the key");
  issue->add_flag("--test", a->test, "Issue a test key (kw_test_…) instead of a live one");
  issue->add_flag("--require-signature", a->require_signature,
                  "The key must sign its requests (RFC 9421); sent as a bearer Api-Key it is refused");
  issue->add_option("--scope", a->scopes, "A scope the key holds (repeatable; default: all the user may hold)");
  auto* ttl = issue->add_option("--ttl", a->ttl, "Lifetime, e.g. 30d, 12h, 90s (at most " +
                                                     core::FormatDuration(auth::kMaxTtlMs) + ")");
  auto* exp = issue->add_option("--expires", a->expires, "Expiry time, RFC 3339");
  ttl->excludes(exp);
  issue->callback([&cli, a, issue] { cli.action = [&cli, a, issue] { return RunIssue(cli, *a, *issue); }; });

  CLI::App* list = key->add_subcommand("list", "List a user's keys (never their secrets)");
  list->add_option("USER_ID", a->id, "usr_… id")->required();
  AddPageOptions(list, &a->page);
  list->callback([&cli, a] { cli.action = [&cli, a] { return RunList(cli, *a); }; });

  CLI::App* show = key->add_subcommand("show", "Show one key");
  show->add_option("KEY_ID", a->id, "key_… id")->required();
  show->callback([&cli, a] {
    cli.action = [&cli, a] {
      store::Backend* st = cli.store();
      return st ? PrintKey(cli, st->keys().GetKey(a->id), nullptr) : int{kExitStorage};
    };
  });

  CLI::App* revoke = key->add_subcommand("revoke", "Revoke a key at once (cannot be undone)");
  revoke->add_option("KEY_ID", a->id, "key_… id")->required();
  revoke->callback([&cli, a] {
    cli.action = [&cli, a] {
      auth::Accounts* accounts = cli.accounts();
      return accounts ? PrintKey(cli, accounts->RevokeKey(a->id), "Revoked key") : int{kExitStorage};
    };
  });

  CLI::App* revoke_all = key->add_subcommand("revoke-all", "Revoke every key of a user in one step");
  revoke_all->add_option("USER_ID", a->id, "usr_… id")->required();
  revoke_all->callback([&cli, a] {
    cli.action = [&cli, a] {
      auth::Accounts* accounts = cli.accounts();
      if (!accounts) return int{kExitStorage};
      StatusOr<std::int64_t> n = accounts->RevokeAllKeys(a->id);
      if (!n.ok()) return cli.Fail(n.status());
      if (cli.json) {
        cli.PrintJson(api::RevokedAllJson(a->id, *n));
      } else {
        std::cout << "Revoked " << *n << " key(s) of user " << a->id << ".\n";
      }
      return int{kExitOk};
    };
  });

  CLI::App* rotate = key->add_subcommand("rotate", "Replace a key; the old one works until the grace period ends");
  rotate->add_option("KEY_ID", a->id, "key_… id")->required();
  rotate->add_option("--grace", a->grace, "How long the old key keeps working (default " +
                                              core::FormatDuration(auth::kDefaultGraceMs) + "; 0s = now; at most " +
                                              core::FormatDuration(auth::kMaxGraceMs) + ")");
  rotate->callback([&cli, a] { cli.action = [&cli, a] { return RunRotate(cli, *a); }; });

  CLI::App* del = key->add_subcommand("delete", "Delete a key record");
  del->add_option("KEY_ID", a->id, "key_… id")->required();
  del->callback([&cli, a] {
    cli.action = [&cli, a] {
      auth::Accounts* accounts = cli.accounts();
      if (!accounts) return int{kExitStorage};
      Status st = accounts->DeleteKey(a->id);
      if (!st.ok()) return cli.Fail(st);
      if (cli.json) {
        cli.PrintJson(api::DeletedJson(a->id));
      } else {
        std::cout << "Deleted key " << a->id << ".\n";
      }
      return int{kExitOk};
    };
  });
}

}  // namespace keyward::cli
