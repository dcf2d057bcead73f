// Measuring helpers shared by the benchmarks: a monotonic clock, medians, the process's minor page faults
// and peak resident memory, and a count of operator new calls (the benchmark binaries have
// testing/alloc_counter.cpp among their sources, which replaces the global operator new to count).
#pragma once
#include <cstdint>
#include <vector>

#include "testing/alloc_counter.hpp"

namespace xgrad::bench {

double now_seconds();
double median(std::vector<double> values);
std::int64_t minor_faults();  // since the process started
double peak_rss_mb();
double current_rss_mb();
using testing::new_bytes;
using testing::new_calls;  // operator new calls since the process started

}  // namespace xgrad::bench
