#!/usr/bin/env bash
# config/smoke.cfg as a Slurm job on two tasks, then the same job again: the second run
# finds every generation done and exits 0 without rewriting a checkpoint.
# shellcheck source=tests/slurm/lib.sh
source "$(dirname "$0")/lib.sh"
require_real_program
export COLLAPSE_BIN=$COLLAPSE_PROGRAM
# smoke.cfg reads data/mnist relative to the submit folder, the repository.
[[ -e $COLLAPSE_SOURCE_DIR/data/mnist/train-images-idx3-ubyte || -e $COLLAPSE_SOURCE_DIR/data/mnist/train-images-idx3-ubyte.gz ]] ||
  fail "MNIST not found under $COLLAPSE_SOURCE_DIR/data/mnist; run scripts/setup.sh"

submit_wait --ntasks=2 --time=10 --output="$test_dir/first.out" \
  "$jobs_dir/collapse.sbatch" config/smoke.cfg "$test_dir/out"
expect_status 0 "smoke run"
expect_in_file "$test_dir/first.out" "MPI world size 2 matches SLURM_NTASKS" "smoke run: world size 2"
expect_in_file "$test_dir/first.out" "finished: all generations are done" "smoke run: finished"

generations=$(sed -n 's/^generations *= *\([0-9]*\);.*/\1/p' "$COLLAPSE_SOURCE_DIR/config/smoke.cfg")
checkpoints=("$test_dir"/out/*/gen-*.h5)
[[ ${#checkpoints[@]} == "$generations" ]] ||
  fail "smoke run wrote ${#checkpoints[@]} checkpoints, expected $generations"
pass "smoke run wrote $generations checkpoints"

stat --format='%n %Y %s' "${checkpoints[@]}" >"$test_dir/before.txt"
start_s=$(date +%s)
submit_wait --ntasks=2 --time=10 --output="$test_dir/second.out" \
  "$jobs_dir/collapse.sbatch" config/smoke.cfg "$test_dir/out"
elapsed_s=$(($(date +%s) - start_s))
expect_status 0 "finished run submitted again"
# The job itself takes seconds; sbatch --wait adds up to one 2 s poll.
((elapsed_s < 30)) || fail "finished run submitted again took $elapsed_s s, expected under 30 s"
pass "finished run submitted again took $elapsed_s s"
stat --format='%n %Y %s' "${checkpoints[@]}" >"$test_dir/after.txt"
cmp -s "$test_dir/before.txt" "$test_dir/after.txt" || fail "finished run submitted again rewrote checkpoints"
pass "finished run submitted again left the checkpoints alone"

finish
