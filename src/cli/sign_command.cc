// sign_command.cc: `keyward sign [--method M] [--data TEXT | --data-file F]
// --key-id key_… URL` — prints the headers that sign one request (RFC 9421
// hmac-sha256 over @method, @target-uri and, with a body, Content-Digest),
// for curl users and for debugging. The key comes from KEYWARD_API_KEY or
// standard input, never from the command line, and is written nowhere.
#include <CLI/CLI.hpp>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "core/http_signature.h"
#include "core/process.h"

namespace keyward::cli {
namespace {

struct SignArgs {
  std::string url;
  std::string method = "GET";
  std::string key_id;
  std::string data;
  std::string data_file;
  std::int64_t created = 0;
  std::string nonce;
};

int RunSign(Cli& cli, SignArgs& a, const CLI::App& sub) {
  if (a.key_id.empty()) a.key_id = core::TakeSecretFromEnvironment("KEYWARD_KEY_ID");
  if (a.key_id.empty() || !a.key_id.starts_with("key_")) {
    std::cerr << "keyward: give the key's id (key_…) with --key-id or KEYWARD_KEY_ID\n";
    return kExitUsage;
  }
  if (sub.count("--data") && sub.count("--data-file")) {
    std::cerr << "keyward: give --data or --data-file, not both\n";
    return kExitUsage;
  }
  std::string body = a.data;
  if (!a.data_file.empty()) {
    std::ifstream in(a.data_file, std::ios::binary);
    if (!in) {
      std::cerr << "keyward: cannot read " << a.data_file << "\n";
      return kExitUsage;
    }
    body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::string key = core::TakeSecretFromEnvironment("KEYWARD_API_KEY");
  if (key.empty()) {
    std::getline(std::cin, key);
    while (!key.empty() && (key.back() == '\r' || key.back() == ' ')) key.pop_back();
  }
  if (key.empty()) {
    std::cerr << "keyward: no key: set KEYWARD_API_KEY or pass the key on standard input\n";
    return kExitUsage;
  }
  core::httpsig::Message msg;
  msg.method = a.method;
  if (Status st = core::httpsig::SplitTargetUri(a.url, &msg); !st.ok()) {
    std::fill(key.begin(), key.end(), '\0');
    std::cerr << "keyward: " << st.message() << "\n";
    return kExitUsage;
  }
  core::httpsig::SignOptions options;
  options.key_id = a.key_id;
  options.created = sub.count("--created") ? a.created : static_cast<std::int64_t>(std::time(nullptr));
  options.nonce = a.nonce;
  StatusOr<core::httpsig::SignedFields> f = core::httpsig::Sign(msg, body, key, options);
  std::fill(key.begin(), key.end(), '\0');
  if (!f.ok()) return cli.Fail(f.status());
  if (cli.json) {
    nlohmann::json j = {{"Signature-Input", f->signature_input}, {"Signature", f->signature}};
    if (!f->content_digest.empty()) j["Content-Digest"] = f->content_digest;
    cli.PrintJson(j);
    return kExitOk;
  }
  // One header per line: `curl -H @<(keyward sign …)` reads them as they are.
  std::cout << "Signature-Input: " << f->signature_input << "\n"
            << "Signature: " << f->signature << "\n";
  if (!f->content_digest.empty()) std::cout << "Content-Digest: " << f->content_digest << "\n";
  return kExitOk;
}

}  // namespace

void AddSignCommand(CLI::App& app, Cli& cli) {
  auto a = std::make_shared<SignArgs>();
  CLI::App* sign = app.add_subcommand(
      "sign", "Print the headers that sign one request with an API key (RFC 9421, hmac-sha256); the key is "
              "read from KEYWARD_API_KEY or standard input");
  sign->add_option("URL", a->url, "The request's absolute URL, e.g. https://api.example.com/v1/ai/jobs")->required();
  sign->add_option("--method,-X", a->method, "The request's method (default GET)");
  sign->add_option("--key-id", a->key_id, "The key's id, key_… (default: KEYWARD_KEY_ID)");
  sign->add_option("--data,-d", a->data, "The request body, exactly as it will be sent");
  sign->add_option("--data-file", a->data_file, "Read the request body from this file");
  sign->add_option("--created", a->created, "The signature's created time, seconds since the epoch (default: now)");
  sign->add_option("--nonce", a->nonce, "The signature's nonce (default: 16 random bytes)");
  sign->callback([&cli, a, sign] { cli.action = [&cli, a, sign] { return RunSign(cli, *a, *sign); }; });
}

}  // namespace keyward::cli
