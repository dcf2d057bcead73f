// WorkerThread: see worker_thread.hpp.
#include "xgrad/data/worker_thread.hpp"

#include <utility>

#include "xgrad/core/error.hpp"

namespace xgrad::data_detail {

WorkerThread::WorkerThread() : thread_([this] { run(); }) {}

WorkerThread::~WorkerThread() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    quit_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void WorkerThread::start(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    XGRAD_CHECK(!busy_, "WorkerThread::start: the previous job is still running");
    job_ = std::move(job);
    busy_ = true;
  }
  changed_.notify_all();
}

void WorkerThread::wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return !busy_; });
}

std::exception_ptr WorkerThread::take_error() {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::exchange(error_, nullptr);
}

void WorkerThread::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return busy_ || quit_; });
    if (!busy_) return;  // quit, with no job left
    std::function<void()> job = std::move(job_);
    lock.unlock();
    std::exception_ptr error;
    try {
      job();
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    error_ = error;
    busy_ = false;
    changed_.notify_all();
  }
}

}  // namespace xgrad::data_detail
