// io_balance.h: how many of the server's I/O threads take connections.
//
// Each I/O thread runs its own event loop and a connection belongs to one
// of them. With a core to spare, spreading connections over more threads
// adds throughput; without one (the clients, the request threads or other
// processes hold the cores) an extra thread only waits for a CPU, and each
// thread that sleeps and wakes for its smaller share adds context switches:
// on two cores with the client on the same machine, two threads served
// 0.7–0.9 of what one did. So each period the server reads how busy its
// I/O threads were, how long they waited for a CPU and how much of the
// machine stood idle, and decides how many threads are in use; keep-alive
// connections move to their thread between two requests (server.cc).
#pragma once

#include <memory>
#include <optional>
#include <vector>

namespace keyward::http {

// One period's load.
struct IoLoad {
  double seconds = 0;  // the period's length
  // Idle time of the whole machine, in cores (0.5: half a core stood idle).
  double idle_cpus = 0;
  // Per I/O thread, by index: the fraction of the period it ran on a CPU.
  std::vector<double> running;
  // Requests the server answered per second over the period.
  double requests_per_second = 0;
};

// The decision, from one period to the next: a hill climb on throughput.
// Starts with one thread in use.
// - A trial of one thread more when, two periods in a row, the busiest
//   thread in use ran at least kSaturated of the period and the machine
//   left at least kSpareCpu cores idle, unless a hold is in force. The
//   trial runs kTrialPeriods periods; the first lets connections move and is
//   not counted. It stands if the request rate of the others beat the rate
//   of the two periods before it by kGain; otherwise the thread is given back and
//   trials wait for a hold that doubles at each failure, up to kLongestHold.
// - A trial of one thread fewer every kRecheck periods with more than one
//   in use (the machine may have changed): it stands, with a hold, unless
//   the rate fell by more than kGain.
// - One thread fewer at once when the load would fit in one thread fewer
//   at half their capacity.
// Busy threads waiting for a CPU are no guide: two threads on two shared
// cores waited ~20 % of the time both where they served less than one and
// where (pipelined requests) they served a quarter more.
class IoBalancer {
 public:
  static constexpr double kSaturated = 0.85;
  static constexpr double kSpareCpu = 0.2;
  static constexpr double kGain = 0.05;
  static constexpr int kTrialPeriods = 3;
  static constexpr int kFirstHold = 8;
  static constexpr int kLongestHold = 256;
  static constexpr int kRecheck = 120;

  explicit IoBalancer(int threads);
  int in_use() const { return in_use_; }
  // Takes one period's load (missing threads count as idle); returns the
  // number of threads in use from now on.
  int Update(const IoLoad& load);

 private:
  enum class Trial { kNone, kMore, kFewer };
  void StartTrial(Trial trial, double baseline);
  void Hold();

  int threads_;
  int in_use_ = 1;
  Trial trial_ = Trial::kNone;
  int trial_age_ = 0;      // periods since the trial began
  double baseline_ = 0;    // the rate before it
  double trial_sum_ = 0;   // the rates of its counted periods
  int trial_counted_ = 0;
  double last_rate_ = -1;  // the previous period's rate if it could use more; else -1
  int hold_ = 0;           // periods left before a trial of one more
  int next_hold_ = kFirstHold;
  int since_check_ = 0;    // periods since the last change with more than one in use
};

// Measures the load of the I/O threads and of the machine.
class IoLoadProbe {
 public:
  virtual ~IoLoadProbe() = default;
  // Called on I/O thread `index` once, before it runs its loop.
  virtual void ThreadStarted(int index) = 0;
  // The load since the previous call (without the request rate, which the
  // server adds); nullopt when it cannot be read (the first call only sets
  // the baseline).
  virtual std::optional<IoLoad> Sample() = 0;
};

// Reads /proc/stat and /proc/self/task/<tid>/schedstat.
std::unique_ptr<IoLoadProbe> MakeProcLoadProbe(int threads);

}  // namespace keyward::http
