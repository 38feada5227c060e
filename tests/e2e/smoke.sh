#!/usr/bin/env bash
# End to end on real MNIST: config/smoke.cfg on 2 ranks, with its output checked. A second
# run finds nothing to do and changes nothing. A deleted last generation is recomputed bit
# for bit, and a larger generation count extends the run.
set -euo pipefail
collapse=$1
work=$2
source "$COLLAPSE_SOURCE_DIR/tests/lib.sh"
rm -rf "$work"
mkdir -p "$work"
out=$work/out
member=$out/mnist-s1
config=$COLLAPSE_SOURCE_DIR/config/smoke.cfg
data=(--set "datasets.[0].dir=\"$COLLAPSE_MNIST_DIR\"")

echo "== smoke run on 2 ranks"
run_mpi 2 "$collapse" run "$config" --output "$out" "${data[@]}"
"$PYTHON" "$COLLAPSE_SOURCE_DIR/tests/e2e/check_run.py" "$member" 3 6000 0.85
test -s "$member/samples-002.png"
test -s "$member/config.cfg"

echo "== a finished run resumes to nothing"
sha256sum "$member"/gen-*.h5 > "$work/before.sha256"
run_mpi 2 "$collapse" run "$config" --output "$out" "${data[@]}" 2> "$work/again.log"
grep -q "nothing to do" "$work/again.log"
sha256sum -c --quiet "$work/before.sha256"

echo "== a deleted generation is recomputed bit for bit"
mkdir -p "$work/saved"
mv "$member/gen-002.h5" "$work/saved/"
run_mpi 2 "$collapse" run "$config" --output "$out" "${data[@]}"
"$PYTHON" "$COLLAPSE_SOURCE_DIR/tests/compare_checkpoints.py" --exact "$work/saved" "$member"

echo "== more generations extend the run"
run_mpi 2 "$collapse" run "$config" --output "$out" "${data[@]}" --set generations=4
"$PYTHON" "$COLLAPSE_SOURCE_DIR/tests/e2e/check_run.py" "$member" 4 6000 0.85
