// The text outputs of a convergence study (bn_vs_no_bn): the curves CSV, the summary CSV and the table
// printed at the end. Pictures are convergence_plots.hpp's.
#pragma once
#include <string>
#include <vector>

#include "examples/common/convergence_run.hpp"

namespace xgrad::examples {

// A CSV field: empty when not measured (NaN), "inf"/"-inf", else %.6g.
std::string csv_field(double v);

// config,norm,optimizer,lr,batch_size,step,images,train_loss,test_accuracy[,p15,p50,p85]: a row per curve
// point. train_loss is empty at step 0 and "nan"/"inf" on the row of a diverging step, whose accuracy is
// empty.
std::string curves_csv(const std::vector<RunRecord>& runs, bool percentiles);

// config,norm,optimizer,lr,batch_size,steps,steps_to_target,final_accuracy,diverged,seconds,init_weights,
// batch_order: a row per run; the fingerprints in hexadecimal.
std::string summary_csv(const std::vector<RunRecord>& runs);

// The table on stdout: configuration, steps to `target`, final accuracy, seconds, diverged.
void print_table(const std::vector<RunRecord>& runs, double target);

}  // namespace xgrad::examples
