// toml_config_fuzz.cc: `keyward serve` configuration text — the TOML parser
// and every setting's value parser.
#include <cstddef>
#include <cstdint>

#include "cli/serve_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  keyward::cli::ServeConfig config;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)keyward::cli::ApplyToml(&config, text, "fuzz");
  // Settings given one value each, as from the environment.
  const auto& settings = keyward::cli::ServeSettings();
  if (size > 0) {
    const auto& s = settings[data[0] % settings.size()];
    (void)keyward::cli::ApplySetting(&config, s.name, std::string(text.substr(1)), "fuzz");
    (void)s.show(config);
  }
  return 0;
}
