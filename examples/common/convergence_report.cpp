// CSVs and table of a convergence study: see convergence_report.hpp.
#include "examples/common/convergence_report.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace xgrad::examples {
namespace {

std::string hex(std::uint64_t v) {
  char b[20];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}

// The fields every row of a run starts with.
std::string head(const RunSpec& r) {
  return run_name(r) + "," + norm_key(r) + "," + r.optimizer + "," + format_g(r.lr) + "," +
         std::to_string(r.batch_size) + ",";
}

}  // namespace

std::string csv_field(double v) {
  if (std::isnan(v)) return "";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

std::string curves_csv(const std::vector<RunRecord>& runs, bool percentiles) {
  std::ostringstream out;
  out << "config,norm,optimizer,lr,batch_size,step,images,train_loss,test_accuracy"
      << (percentiles ? ",p15,p50,p85" : "") << "\n";
  for (const RunRecord& r : runs) {
    for (const CurvePoint& p : r.track.curve) {
      // A NaN loss after step 0 is the diverging step's: say "nan" there, not "not measured".
      const bool nan_loss = p.step > 0 && std::isnan(p.train_loss);
      out << head(r.spec) << p.step << "," << p.images << "," << (nan_loss ? "nan" : csv_field(p.train_loss)) << ","
          << csv_field(p.test_accuracy);
      if (percentiles) out << "," << csv_field(p.p15) << "," << csv_field(p.p50) << "," << csv_field(p.p85);
      out << "\n";
    }
  }
  return out.str();
}

std::string summary_csv(const std::vector<RunRecord>& runs) {
  std::ostringstream out;
  out << "config,norm,optimizer,lr,batch_size,steps,steps_to_target,final_accuracy,diverged,seconds,init_weights,"
         "batch_order\n";
  for (const RunRecord& r : runs) {
    out << head(r.spec) << r.steps << "," << r.steps_to_target << "," << csv_field(r.final_accuracy) << ","
        << (r.diverged.empty() ? "no" : r.diverged) << "," << csv_field(r.track.seconds) << ","
        << hex(r.init_weights) << "," << hex(r.batch_order) << "\n";
  }
  return out.str();
}

void print_table(const std::vector<RunRecord>& runs, double target) {
  const std::string steps_to = "steps to " + format_g(100 * target) + "%";
  std::printf("\n%-30s %14s %15s %8s  %s\n", "configuration", steps_to.c_str(), "final accuracy", "seconds",
              "diverged");
  for (const RunRecord& r : runs) {
    char accuracy[16] = "-";
    if (!std::isnan(r.final_accuracy)) std::snprintf(accuracy, sizeof accuracy, "%.2f%%", 100 * r.final_accuracy);
    const std::string diverged = r.diverged.empty() ? "no" : "yes: " + r.diverged;
    std::printf("%-30s %14s %15s %8.0f  %s\n", run_name(r.spec).c_str(), r.steps_to_target.c_str(), accuracy,
                r.track.seconds, diverged.c_str());
  }
}

}  // namespace xgrad::examples
