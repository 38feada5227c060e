#!/usr/bin/env bash
# The ensemble smoke configuration on 4 ranks (2 groups of 2, oversubscribed on small
# machines): 3 seeds x {MNIST, Fashion-MNIST, EMNIST} on real data, every member's output
# checked; then one member run alone on 2 ranks must give byte-identical checkpoints.
# The output stays in place for the analysis tests.
set -euo pipefail
collapse=$1
work=$2
source "$COLLAPSE_SOURCE_DIR/tests/lib.sh"
rm -rf "$work"
mkdir -p "$work"
config=$COLLAPSE_SOURCE_DIR/config/ensemble-smoke.cfg
data=(--set "datasets.[0].dir=\"$COLLAPSE_MNIST_DIR\"" --set "datasets.[1].dir=\"$COLLAPSE_FASHION_DIR\""
      --set "datasets.[2].dir=\"$COLLAPSE_EMNIST_DIR\"")

[ "$("$collapse" members "$config")" = 9 ]

echo "== ensemble on 4 ranks"
run_mpi 4 "$collapse" run "$config" --output "$work/out" "${data[@]}" 2> "$work/ensemble.log" ||
    { tail -30 "$work/ensemble.log"; exit 1; }
grep -E "gen 0 done" "$work/ensemble.log" | sed 's/^.*\[\(.*\)\] gen 0 done in .* test accuracy \([0-9.]*\).*$/\1 generation-0 test accuracy \2/'
for seed in 1 2 3; do
    "$PYTHON" "$COLLAPSE_SOURCE_DIR/tests/e2e/check_run.py" "$work/out/mnist-s$seed" 3 6000 0.85
    "$PYTHON" "$COLLAPSE_SOURCE_DIR/tests/e2e/check_run.py" "$work/out/fashion-s$seed" 3 6000 0.75
    "$PYTHON" "$COLLAPSE_SOURCE_DIR/tests/e2e/check_run.py" "$work/out/emnist-s$seed" 3 8000 0.30
done

echo "== member 4 (fashion-s2) alone on 2 ranks matches its run inside the ensemble"
run_mpi 2 "$collapse" run "$config" --output "$work/alone" --member 4 "${data[@]}" 2> "$work/alone.log" ||
    { tail -30 "$work/alone.log"; exit 1; }
[ "$(ls "$work/alone")" = fashion-s2 ]
"$PYTHON" "$COLLAPSE_SOURCE_DIR/tests/compare_checkpoints.py" --exact "$work/out/fashion-s2" "$work/alone/fashion-s2"
