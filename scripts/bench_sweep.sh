#!/usr/bin/env bash
# How cost grows with the batch: images/s and peak memory against batch size (16 ... 512) for the MNIST CNN
# and ResNet-9, training with BN, at 1 and 2 threads, xgrad beside libtorch. Each point is one framework
# alone in a process of its own (so its peak memory is its own), over a fixed number of images.
# Writes runs/bench_sweep.csv and runs/bench_sweep.png (gnuplot), ~10 minutes.
#   scripts/bench_sweep.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = --quick ] && quick=1

bash scripts/bench_build.sh
bench=build-bench/bench/xgrad_bench
mkdir -p runs
csv=runs/bench_sweep.csv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "network,framework,threads,batch,images_per_second,peak_rss_mb" >"$csv"
batches=(16 32 64 128 256 512)
[ "$quick" = 1 ] && batches=(16 64 256)
for net in mnist resnet9; do
  images=$([ "$net" = resnet9 ] && echo 1536 || echo 12800)
  [ "$quick" = 1 ] && images=$((images / 8))
  for threads in 1 2; do
    for batch in "${batches[@]}"; do
      for fw in xgrad libtorch; do
        n=$((images > 2 * batch ? images : 2 * batch))
        if "$bench" --network "$net" --batch "$batch" --threads "$threads" --cases train_bn --standalone "$fw" \
             --images "$n" --warmup-seconds 0.5 --report "$tmp/r.json" >"$tmp/out.txt" 2>&1; then
          cat "$tmp/out.txt"
          python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(','.join(str(x) for x in [r['network'], r['framework'], r['threads'], r['batch'], round(r['images_per_second'],1), round(r['peak_rss_mb'],1)]))" \
            "$tmp/r.json" >>"$csv"
        else
          echo "sweep: $net $fw batch $batch threads $threads: $(tail -1 "$tmp/out.txt")"
        fi
      done
    done
  done
done

term=png
gnuplot -e "set terminal" 2>&1 | grep -qw pngcairo && term=pngcairo
# Each series is read through grep (a plot of `cond ? y : 1/0` would draw points without their lines).
gnuplot <<GNUPLOT
set terminal $term size 1200,800
set output "runs/bench_sweep.png"
set datafile separator ","
set multiplot layout 2,2 title "Training with BN against batch size (xgrad solid, libtorch dashed; 1 thread thin, 2 threads thick)"
set logscale x 2
set grid
set key left top
framework(i) = word("xgrad libtorch", i/2+1)
series(net, i) = sprintf("< grep '^%s,%s,%d,' $csv", net, framework(i), i%2+1)
do for [net in "mnist resnet9"] {
  set title net.": images/s"
  set xlabel "batch size"
  plot for [i=0:3] series(net, i) using 4:5 with linespoints lw ((i%2+1)*1.5) dashtype i/2+1 linecolor i/2+1 \\
       title sprintf("%s %d thr", framework(i), i%2+1)
}
do for [net in "mnist resnet9"] {
  set title net.": peak memory (MB)"
  set xlabel "batch size"
  plot for [i=0:3] series(net, i) using 4:6 with linespoints lw ((i%2+1)*1.5) dashtype i/2+1 linecolor i/2+1 \\
       title sprintf("%s %d thr", framework(i), i%2+1)
}
unset multiplot
GNUPLOT
echo "sweep: $csv and runs/bench_sweep.png"
