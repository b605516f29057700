// seal_commands.cc: `keyward seal status|rotate` — which key the queue's
// credentials are sealed under, and moving them to a new key.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli.h"

namespace keyward::cli {
namespace {

struct SealArgs {
  std::string new_key_file;
  bool forget_lost_key = false;
};

bool Exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

int RunStatus(Cli& cli) {
  store::Backend* st = cli.store();
  if (!st) return kExitStorage;
  const service::SealKeySource& source = cli.seal_key_source();
  StatusOr<core::Sealer> mine = service::LoadSealKey(source);
  StatusOr<std::vector<QueueEntry>> in_flight = st->queue().ListInFlight();
  if (!in_flight.ok()) return cli.Fail(in_flight.status());
  // Reading the recorded key records this process's key if none is yet.
  StatusOr<std::string> recorded =
      st->queue().AdoptSealKey(mine.ok() ? mine->fingerprint() : std::string());
  if (!recorded.ok()) return cli.Fail(recorded.status());
  const bool match = mine.ok() && mine->fingerprint() == *recorded;
  if (cli.json) {
    cli.PrintJson({{"recorded", *recorded},
                   {"this_process", mine.ok() ? nlohmann::json(mine->fingerprint()) : nlohmann::json(nullptr)},
                   {"source", source.Describe()},
                   {"matches", match},
                   {"in_flight", in_flight->size()}});
  } else {
    std::cout << "queue sealed under:  " << *recorded << "\n"
              << "this process's key:  " << (mine.ok() ? mine->fingerprint() : "(" + mine.status().message() + ")")
              << " from " << source.Describe() << "\n"
              << "in-flight entries:   " << in_flight->size() << "\n"
              << (match ? "OK: serve, worker and job enqueue will start with this key.\n"
                        : "MISMATCH: use the recorded key, or move to this one with `keyward seal rotate`.\n");
  }
  return match ? kExitOk : kExitRefused;
}

int RunRotate(Cli& cli, const SealArgs& a) {
  store::Backend* st = cli.store();
  if (!st) return kExitStorage;
  const service::SealKeySource& source = cli.seal_key_source();
  const bool from_file = source.hex.empty();
  if (!from_file && a.new_key_file.empty()) {
    std::cerr << "keyward: the seal key comes from KEYWARD_SEAL_KEY: give --new-key-file PATH for the new "
                 "key, then set KEYWARD_SEAL_KEY to its contents\n";
    return kExitUsage;
  }
  const std::string next_path = from_file ? source.file_path + ".next" : a.new_key_file;
  StatusOr<std::string> recorded = st->queue().AdoptSealKey("");
  if (!recorded.ok()) return cli.Fail(recorded.status());

  // A rotation interrupted after its commit: the database names the new
  // key, which waits in the .next file. Finish it.
  if (from_file && Exists(next_path)) {
    StatusOr<core::Sealer> pending = core::Sealer::FromKeyFile(next_path);
    if (pending.ok() && pending->fingerprint() == *recorded) {
      StatusOr<core::Sealer> old = core::Sealer::FromKeyFile(source.file_path);
      std::string retired = source.file_path + ".retired-" + (old.ok() ? old->fingerprint() : "unknown");
      if (std::rename(source.file_path.c_str(), retired.c_str()) != 0 ||
          std::rename(next_path.c_str(), source.file_path.c_str()) != 0) {
        return cli.Fail(UnavailableError("cannot move " + next_path + " into place"));
      }
      std::cout << "Completed an interrupted rotation: the queue is sealed under " << *recorded << ".\n";
      return kExitOk;
    }
    std::remove(next_path.c_str());  // never committed: start again
  }

  StatusOr<core::Sealer> old = service::LoadSealKey(source);
  const bool old_usable = old.ok() && (recorded->empty() || old->fingerprint() == *recorded);
  if (!old_usable && !a.forget_lost_key) {
    std::cerr << "keyward: the queue is sealed under seal key " << *recorded << ", which "
              << source.Describe() << " does not hold" << (old.ok() ? "" : " (" + old.status().message() + ")")
              << ". Restore that key, or give --forget-lost-key to mark every in-flight entry dead "
                 "and start over with a new key.\n";
    return kExitUsage;
  }
  StatusOr<core::Sealer> fresh = core::Sealer::Generate();
  if (!fresh.ok()) return cli.Fail(fresh.status());
  if (Status w = fresh->WriteKeyFile(next_path); !w.ok()) return cli.Fail(w);

  StatusOr<std::vector<QueueEntry>> in_flight = st->queue().ListInFlight();
  if (!in_flight.ok()) return cli.Fail(in_flight.status());
  std::vector<std::pair<std::string, std::string>> resealed;
  std::vector<std::string> abandoned;
  for (const QueueEntry& e : *in_flight) {
    StatusOr<std::string> key = old_usable && e.sealed_key ? old->Open(*e.sealed_key, e.id)
                                                           : StatusOr<std::string>(PermissionDeniedError("lost"));
    StatusOr<std::string> sealed = key.ok() ? fresh->Seal(*key, e.id) : key.status();
    if (key.ok()) std::fill(key->begin(), key->end(), '\0');
    if (sealed.ok()) {
      resealed.emplace_back(e.id, std::move(*sealed));
    } else if (a.forget_lost_key) {
      abandoned.push_back(e.id);
    } else {
      std::remove(next_path.c_str());
      return cli.Fail(FailedPreconditionError("queue entry " + e.id + " does not open with the current key"));
    }
  }
  // Every key's signing secret moves to the new key too.
  StatusOr<std::vector<std::pair<std::string, std::string>>> secrets = st->keys().ListSigningSecrets();
  if (!secrets.ok()) {
    std::remove(next_path.c_str());
    return cli.Fail(secrets.status());
  }
  std::vector<std::pair<std::string, std::string>> signing;
  std::size_t forgotten = 0;
  for (const auto& [key_id, sealed] : *secrets) {
    StatusOr<std::string> secret = old_usable ? old->Open(sealed, key_id)
                                              : StatusOr<std::string>(PermissionDeniedError("lost"));
    StatusOr<std::string> resealed_secret = secret.ok() ? fresh->Seal(*secret, key_id) : secret.status();
    if (secret.ok()) std::fill(secret->begin(), secret->end(), '\0');
    if (resealed_secret.ok()) {
      signing.emplace_back(key_id, std::move(*resealed_secret));
    } else if (a.forget_lost_key) {
      signing.emplace_back(key_id, std::string());  // learned again at the key's next bearer use
      ++forgotten;
    } else {
      std::remove(next_path.c_str());
      return cli.Fail(FailedPreconditionError("the signing secret of key " + key_id +
                                              " does not open with the current key"));
    }
  }
  Status replaced = st->queue().ReplaceSealKey(*recorded, fresh->fingerprint(), resealed, abandoned, signing,
                                               cli.clock().Now());
  if (!replaced.ok()) {
    std::remove(next_path.c_str());
    return cli.Fail(replaced);
  }
  if (from_file) {
    std::string retired = source.file_path + ".retired-" + (old.ok() ? old->fingerprint() : *recorded);
    if (Exists(source.file_path) && std::rename(source.file_path.c_str(), retired.c_str()) != 0) {
      return cli.Fail(UnavailableError("rotated, but cannot retire " + source.file_path +
                                       ": run `keyward seal rotate` again to finish"));
    }
    if (std::rename(next_path.c_str(), source.file_path.c_str()) != 0) {
      return cli.Fail(UnavailableError("rotated, but cannot move " + next_path +
                                       " into place: run `keyward seal rotate` again to finish"));
    }
  }
  if (cli.json) {
    cli.PrintJson({{"old", *recorded}, {"new", fresh->fingerprint()}, {"resealed", resealed.size()},
                   {"abandoned", abandoned.size()}, {"signing_secrets", signing.size() - forgotten},
                   {"signing_secrets_forgotten", forgotten}});
  } else {
    std::cout << "Rotated the seal key: " << (recorded->empty() ? "(none)" : *recorded) << " -> "
              << fresh->fingerprint() << "; re-sealed " << resealed.size() << " in-flight entr"
              << (resealed.size() == 1 ? "y" : "ies");
    if (!abandoned.empty()) std::cout << ", marked " << abandoned.size() << " dead (their key was lost)";
    std::cout << "; re-sealed " << signing.size() - forgotten << " signing secret"
              << (signing.size() - forgotten == 1 ? "" : "s");
    if (forgotten) {
      std::cout << ", forgot " << forgotten << " (each is derived again at its key's next bearer use; a key "
                << "that requires signatures must be re-issued)";
    }
    std::cout << ".\n"
              << (from_file ? "The old key was kept as " + source.file_path + ".retired-…; remove it when "
                                  "no backup needs it.\n"
                            : "Set KEYWARD_SEAL_KEY to the contents of " + next_path + ".\n")
              << "Restart keyward serve and every keyward worker so that they use the new key.\n";
  }
  return kExitOk;
}

}  // namespace

void AddSealCommands(CLI::App& app, Cli& cli) {
  CLI::App* seal = app.add_subcommand("seal", "The seal key that protects credentials in the job queue");
  seal->require_subcommand(1);
  auto a = std::make_shared<SealArgs>();
  CLI::App* status = seal->add_subcommand("status", "Which seal key the queue is sealed under, and whether this process has it");
  status->callback([&cli] { cli.action = [&cli] { return RunStatus(cli); }; });
  CLI::App* rotate = seal->add_subcommand("rotate", "Generate a new seal key and re-seal every in-flight queue entry under it");
  rotate->add_option("--new-key-file", a->new_key_file,
                     "Where to write the new key (required when the key comes from KEYWARD_SEAL_KEY)");
  rotate->add_flag("--forget-lost-key", a->forget_lost_key,
                   "The current key is lost: mark in-flight entries dead instead of re-sealing them");
  rotate->callback([&cli, a] { cli.action = [&cli, a] { return RunRotate(cli, *a); }; });
}

}  // namespace keyward::cli
