// Measuring helpers shared by the benchmarks: a monotonic clock, medians, the process's minor page faults
// and peak resident memory, and a count of operator new calls (the benchmark binaries replace the global
// operator new to count; see alloc_counter.cpp).
#pragma once
#include <cstdint>
#include <vector>

namespace xgrad::bench {

double now_seconds();
double median(std::vector<double> values);
std::int64_t minor_faults();  // since the process started
double peak_rss_mb();
double current_rss_mb();
std::int64_t new_calls();  // operator new calls since the process started
std::int64_t new_bytes();

}  // namespace xgrad::bench
