#!/usr/bin/env bash
# The real program through a time limit: a job with --time=1 and --signal=B:USR1@50 gets
# the warning signal in its first half minute, checkpoints, exits 75, is requeued and
# resumes until it finishes. Its checkpoints must equal, apart from the wall time in
# /metrics/seconds, those of an uninterrupted job with the same config and rank count
# that runs at the same time.
# shellcheck source=tests/slurm/lib.sh
source "$(dirname "$0")/lib.sh"
require_real_program
command -v h5diff >/dev/null 2>&1 || fail "h5diff not found: install Debian's hdf5-tools"
export COLLAPSE_BIN=$COLLAPSE_PROGRAM

# 12 generations of 6+6 epochs on 6,000 images take a few minutes on two ranks of a 2-core
# machine while the reference job shares the cores: longer than the 0-30 s until the
# warning signal, which then always lands mid-run.
generations=12
config=$test_dir/resume.cfg
cat >"$config" <<EOF
generations = $generations;
samples = 6000;
batch_size = 128;
seeds = [ 1 ];
sample_grid = 16;
output = "unused";
datasets = (
  { name = "mnist"; kind = "mnist"; dir = "$COLLAPSE_MNIST_DIR"; max_train = 6000; }
);
vae = { hidden = [ 128, 128 ]; latent = 20; epochs = 6; learning_rate = 1e-3; reset = false; };
classifier = { type = "mlp"; hidden = [ 256, 256 ]; epochs = 6; learning_rate = 1e-3; };
EOF

jobs_submitted=1
(
  submit_wait --ntasks=2 --time=10 --output="$test_dir/reference.out" \
    "$jobs_dir/collapse.sbatch" "$config" "$test_dir/reference"
  echo "$status" >"$test_dir/reference.status"
) &
(
  export COLLAPSE_MAX_REQUEUES=8
  submit_wait --ntasks=2 --time=1 --signal=B:USR1@50 --output="$test_dir/interrupted.out" \
    "$jobs_dir/collapse.sbatch" "$config" "$test_dir/interrupted"
  echo "$status" >"$test_dir/interrupted.status"
) &
wait

status=$(<"$test_dir/reference.status")
expect_status 0 "uninterrupted job"
expect_not_in_file "$test_dir/reference.out" "requeueing job" "uninterrupted job: no requeue"

status=$(<"$test_dir/interrupted.status")
expect_status 0 "interrupted job"
expect_in_file "$test_dir/interrupted.out" "received SIGUSR1" "interrupted job: warning signal received"
expect_in_file "$test_dir/interrupted.out" "requeueing job" "interrupted job: requeued"
expect_in_file "$test_dir/interrupted.out" "MPI world size 2 matches SLURM_NTASKS" "interrupted job: world size 2"
requeues=$(grep -c "requeueing job" "$test_dir/interrupted.out")
echo "interrupted job was requeued $requeues times"

reference_files=("$test_dir"/reference/*/gen-*.h5)
[[ ${#reference_files[@]} == "$generations" ]] ||
  fail "uninterrupted job wrote ${#reference_files[@]} checkpoints, expected $generations"
pass "uninterrupted job wrote $generations checkpoints"

for reference in "${reference_files[@]}"; do
  relative=${reference#"$test_dir/reference/"}
  resumed=$test_dir/interrupted/$relative
  [[ -e $resumed ]] || fail "interrupted job did not write $relative"
  # --exclude-path takes the object path; the wall time is the only value that may differ.
  if ! h5diff --exclude-path /metrics/seconds "$reference" "$resumed" >"$test_dir/h5diff.txt" 2>&1; then
    head -n 40 "$test_dir/h5diff.txt"
    fail "checkpoint $relative differs between the uninterrupted and the interrupted job"
  fi
done
pass "all $generations checkpoints equal apart from /metrics/seconds"

for reference in "$test_dir"/reference/*/samples-*.png; do
  relative=${reference#"$test_dir/reference/"}
  cmp -s "$reference" "$test_dir/interrupted/$relative" || fail "sample grid $relative differs"
done
pass "sample grids identical"

leftovers=$(find "$test_dir/interrupted" -name '*.tmp')
[[ -z $leftovers ]] || fail "temporary files left behind: $leftovers"
pass "no temporary checkpoint files left"

finish
