#include "http/io_balance.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace keyward::http {

IoBalancer::IoBalancer(int threads) : threads_(std::max(1, threads)) {}

void IoBalancer::StartTrial(Trial trial, double baseline) {
  trial_ = trial;
  trial_age_ = 0;
  baseline_ = baseline;
  trial_sum_ = 0;
  trial_counted_ = 0;
  in_use_ += trial == Trial::kMore ? 1 : -1;
}

void IoBalancer::Hold() {
  hold_ = next_hold_;
  next_hold_ = std::min(next_hold_ * 2, kLongestHold);
}

int IoBalancer::Update(const IoLoad& load) {
  double busiest = 0, running = 0;
  for (int i = 0; i < in_use_ && i < static_cast<int>(load.running.size()); ++i) {
    busiest = std::max(busiest, load.running[static_cast<std::size_t>(i)]);
    running += load.running[static_cast<std::size_t>(i)];
  }
  const double rate = load.requests_per_second;

  if (trial_ != Trial::kNone) {
    if (++trial_age_ > 1) {
      trial_sum_ += rate;
      ++trial_counted_;
    }
    if (trial_age_ < kTrialPeriods) return in_use_;
    const double after = trial_sum_ / std::max(1, trial_counted_);
    if (trial_ == Trial::kMore) {
      if (after >= baseline_ * (1 + kGain)) {
        next_hold_ = kFirstHold;
      } else {
        --in_use_;
        Hold();
      }
    } else if (after >= baseline_ * (1 - kGain)) {
      Hold();  // as many requests with one thread fewer
    } else {
      ++in_use_;
    }
    trial_ = Trial::kNone;
    since_check_ = 0;
    last_rate_ = -1;
    return in_use_;
  }

  // A trial of one more needs two such periods in a row: the rate before it
  // is then their mean, not that of a load still rising.
  const bool could_use_more = in_use_ < threads_ && busiest >= kSaturated && load.idle_cpus >= kSpareCpu;
  const double previous = last_rate_;
  last_rate_ = could_use_more ? rate : -1;
  const bool held = hold_ > 0;
  if (held) --hold_;
  if (in_use_ > 1 && running <= 0.5 * (in_use_ - 1)) {
    --in_use_;
    since_check_ = 0;
    last_rate_ = -1;
  } else if (could_use_more && !held && previous >= 0) {
    StartTrial(Trial::kMore, (previous + rate) / 2);
  } else if (in_use_ > 1 && ++since_check_ >= kRecheck) {
    StartTrial(Trial::kFewer, rate);
  }
  return in_use_;
}

namespace {

// b - a for counters that should only grow (/proc/stat's iowait can step
// back on some kernels).
std::uint64_t Grown(std::uint64_t a, std::uint64_t b) { return b > a ? b - a : 0; }

// The first 512 bytes of a /proc file (all that the files read here need);
// empty on failure.
std::string ReadSmallFile(const char* path) {
  std::string text;
  if (std::FILE* f = std::fopen(path, "re")) {
    char buf[512];
    std::size_t n = std::fread(buf, 1, sizeof buf, f);
    text.assign(buf, n);
    std::fclose(f);
  }
  return text;
}

// The unsigned decimal numbers of `text` after skipping `skip` words, up to
// `count` of them; fewer when the text ends or has a word that is not one.
std::vector<std::uint64_t> Numbers(std::string_view text, std::size_t skip, std::size_t count) {
  std::vector<std::uint64_t> out;
  std::size_t word = 0;
  std::size_t i = 0;
  while (out.size() < count) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    if (i >= text.size() || text[i] == '\n') break;
    std::size_t end = text.find_first_of(" \t\n", i);
    if (end == std::string_view::npos) end = text.size();
    if (word++ >= skip) {
      std::uint64_t v = 0;
      auto [p, ec] = std::from_chars(text.data() + i, text.data() + end, v);
      if (ec != std::errc() || p != text.data() + end) break;
      out.push_back(v);
    }
    i = end;
  }
  return out;
}

class ProcLoadProbe final : public IoLoadProbe {
 public:
  explicit ProcLoadProbe(int threads) : tids_(static_cast<std::size_t>(std::max(1, threads))) {}

  void ThreadStarted(int index) override {
    if (index >= 0 && static_cast<std::size_t>(index) < tids_.size()) {
      tids_[static_cast<std::size_t>(index)].store(static_cast<long>(::syscall(SYS_gettid)));
    }
  }

  std::optional<IoLoad> Sample() override {
    std::optional<Reading> now = Read();
    std::optional<IoLoad> load;
    if (now && last_) {
      double seconds = std::chrono::duration<double>(now->at - last_->at).count();
      if (seconds > 0) {
        load.emplace();
        load->seconds = seconds;
        load->idle_cpus = static_cast<double>(Grown(last_->idle_ticks, now->idle_ticks)) /
                          static_cast<double>(ticks_per_second_) / seconds;
        for (std::size_t i = 0; i < tids_.size(); ++i) {
          load->running.push_back(static_cast<double>(Grown(last_->run_ns[i], now->run_ns[i])) / 1e9 / seconds);
        }
      }
    }
    last_ = std::move(now);
    return load;
  }

 private:
  struct Reading {
    std::chrono::steady_clock::time_point at;
    std::uint64_t idle_ticks = 0;
    std::vector<std::uint64_t> run_ns;
  };

  std::optional<Reading> Read() const {
    Reading r;
    r.at = std::chrono::steady_clock::now();
    // "cpu  user nice system idle iowait ...": idle and iowait both count
    // as a core nobody used.
    std::string stat = ReadSmallFile("/proc/stat");
    if (stat.compare(0, 4, "cpu ") != 0) return std::nullopt;
    std::vector<std::uint64_t> cpu = Numbers(stat, 1, 5);
    if (cpu.size() < 5) return std::nullopt;
    r.idle_ticks = cpu[3] + cpu[4];
    for (const std::atomic<long>& tid : tids_) {
      long id = tid.load();
      if (id <= 0) return std::nullopt;
      char path[64];
      std::snprintf(path, sizeof path, "/proc/self/task/%ld/schedstat", id);
      // "time on a CPU (ns) time waiting to run (ns) timeslices"
      std::vector<std::uint64_t> s = Numbers(ReadSmallFile(path), 0, 1);
      if (s.empty()) return std::nullopt;
      r.run_ns.push_back(s[0]);
    }
    return r;
  }

  std::vector<std::atomic<long>> tids_;  // 0 until the thread has started
  const long ticks_per_second_ = std::max(1L, ::sysconf(_SC_CLK_TCK));
  std::optional<Reading> last_;
};

}  // namespace

std::unique_ptr<IoLoadProbe> MakeProcLoadProbe(int threads) {
  return std::make_unique<ProcLoadProbe>(threads);
}

}  // namespace keyward::http
