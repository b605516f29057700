// whose_key: asks keyward who an API key belongs to, twice — over HTTP with
// keyward::Client, and in-process with keyward::Verifier on the database.
//   whose_key BASE_URL DB_PATH KEY
#include <keyward/client.h>
#include <keyward/store.h>
#include <keyward/verifier.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: whose_key BASE_URL DB_PATH KEY\n";
    return 2;
  }
  keyward::Client client({.base_url = argv[1]});
  keyward::StatusOr<keyward::ClientResponse> authz = client.Authz(argv[3]);
  if (!authz.ok()) {
    std::cerr << "keyward unreachable: " << authz.status().ToString() << "\n";
    return 1;
  }
  std::cout << "http: " << authz->status << " " << authz->Header("X-Keyward-User-Id") << "\n";

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
