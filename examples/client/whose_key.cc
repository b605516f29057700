// whose_key: asks keyward who an API key belongs to, twice — over HTTP with
// keyward::Client, and in-process with keyward::Verifier on the database —
// and, given the key's id, makes a signed request (RFC 9421) with it.
//   whose_key BASE_URL DB_PATH KEY [KEY_ID]
#include <keyward/client.h>
#include <keyward/store.h>
#include <keyward/verifier.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::cerr << "usage: whose_key BASE_URL DB_PATH KEY [KEY_ID]\n";
    return 2;
  }
  keyward::Client client({.base_url = argv[1]});
  keyward::StatusOr<keyward::ClientResponse> authz = client.Authz(argv[3]);
  if (!authz.ok()) {
    std::cerr << "keyward unreachable: " << authz.status().ToString() << "\n";
    return 1;
  }
  std::cout << "http: " << authz->status << " " << authz->Header("X-Keyward-User-Id") << "\n";
  if (argc == 5) {
    // Signed: the key stays here; keyward answers as for its user (404: the
    // user has no such job, which only an authenticated caller learns).
    keyward::StatusOr<keyward::ClientResponse> job = client.GetJob({argv[3], argv[4]}, "no-such-job");
    if (!job.ok()) {
      std::cerr << "keyward unreachable: " << job.status().ToString() << "\n";
      return 1;
    }
    std::cout << "signed: " << job->status << "\n";
  }

  keyward::StatusOr<keyward::KeyStorePtr> store = keyward::OpenKeyStore({.location = argv[2]});
  if (!store.ok()) {
    std::cerr << store.status().ToString() << "\n";
    return 1;
  }
  keyward::Verifier verifier(**store, keyward::SystemClock());
  keyward::StatusOr<keyward::Verification> v = verifier.Verify({.key = argv[3]});
  if (!v.ok()) {
    std::cerr << v.status().ToString() << "\n";
    return 1;
  }
  std::cout << "in-process: " << keyward::VerifyOutcomeName(v->outcome) << " "
            << (v->principal ? v->principal->user_id : "") << "\n";
  return v->valid() ? 0 : 1;
}
