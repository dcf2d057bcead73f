// WorkerThread: one background thread that runs one job at a time for its owner, the DataLoader's
// prefetching (the next batch is collated while the current one trains). Not a pool and not a queue: the
// owner hands over a job only when the previous one is done, so jobs run in the order they were given.
#pragma once
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace xgrad::data_detail {

class WorkerThread {
 public:
  WorkerThread();
  ~WorkerThread();  // finishes the job in progress, then joins
  WorkerThread(const WorkerThread&) = delete;
  WorkerThread& operator=(const WorkerThread&) = delete;

  // Runs `job` on the thread. Call only when idle (after wait()).
  void start(std::function<void()> job);
  // Blocks until the job in progress, if any, is done.
  void wait();
  // The exception the last job threw (cleared), or null.
  std::exception_ptr take_error();

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable changed_;
  std::function<void()> job_;
  bool busy_ = false, quit_ = false;
  std::exception_ptr error_;
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace xgrad::data_detail
