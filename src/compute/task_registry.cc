// task_registry.cc: echo, wordcount and sha256.
#include "compute/task_registry.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/crypto.h"

namespace keyward::compute {
namespace {

using nlohmann::json;

Status NeedsString(const json& payload, const char* field) {
  if (!payload.is_object() || !payload.contains(field) || !payload[field].is_string()) {
    return InvalidArgumentError(std::string("payload needs a string field \"") + field + "\"");
  }
  return OkStatus();
}

StatusOr<json> WordCount(const json& payload) {
  KW_RETURN_IF_ERROR(NeedsString(payload, "text"));
  const std::string& text = payload["text"].get_ref<const std::string&>();
  std::unordered_map<std::string, std::int64_t> counts;
  std::int64_t words = 0, lines = text.empty() ? 0 : 1;
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    ++counts[word];
    ++words;
    word.clear();
  };
  for (unsigned char c : text) {
    if (c == '\n') ++lines;
    if (std::isalnum(c) || c >= 0x80 || c == '\'') {
      word.push_back(static_cast<char>(c < 0x80 ? std::tolower(c) : c));
    } else {
      flush();
    }
  }
  flush();
  std::vector<std::pair<std::string, std::int64_t>> top(counts.begin(), counts.end());
  std::sort(top.begin(), top.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (top.size() > 10) top.resize(10);
  json top_json = json::array();
  for (const auto& [w, n] : top) top_json.push_back({{"word", w}, {"count", n}});
  return json{{"words", words}, {"lines", lines}, {"bytes", text.size()},
              {"unique_words", counts.size()}, {"top", top_json}};
}

StatusOr<json> Sha256Task(const json& payload) {
  KW_RETURN_IF_ERROR(NeedsString(payload, "data"));
  const std::string& data = payload["data"].get_ref<const std::string&>();
  core::Sha256Digest d = core::Sha256(data);
  return json{{"sha256", core::HexEncode(d.data(), d.size())}, {"bytes", data.size()}};
}

}  // namespace

TaskRegistry TaskRegistry::BuiltIn() {
  TaskRegistry r;
  r.Add({"echo", "Returns the payload unchanged.", 1, [](const json&) { return OkStatus(); },
         [](const json& p) -> StatusOr<json> { return p; }});
  r.Add({"wordcount",
         "Counts payload.text: words, lines, bytes, unique_words, and the top 10 words as "
         "[{word, count}].", 2,
         [](const json& p) { return NeedsString(p, "text"); }, WordCount});
  r.Add({"sha256", "SHA-256 of payload.data (its UTF-8 bytes): {sha256 (hex), bytes}.", 1,
         [](const json& p) { return NeedsString(p, "data"); }, Sha256Task});
  return r;
}

void TaskRegistry::Add(Task task) {
  std::string name = task.name;
  tasks_[name] = std::move(task);
}

const Task* TaskRegistry::Find(const std::string& name) const {
  auto it = tasks_.find(name);
  return it == tasks_.end() ? nullptr : &it->second;
}

}  // namespace keyward::compute
