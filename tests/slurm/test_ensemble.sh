#!/usr/bin/env bash
# The real program as a job array: submit-ensemble.sh reads the member count (two seeds)
# with `collapse members` and each array task runs one member on two tasks.
# shellcheck source=tests/slurm/lib.sh
source "$(dirname "$0")/lib.sh"
require_real_program
export COLLAPSE_BIN=$COLLAPSE_PROGRAM

generations=2
config=$test_dir/ensemble.cfg
cat >"$config" <<EOF
generations = $generations;
samples = 2000;
batch_size = 128;
seeds = [ 1, 2 ];
sample_grid = 16;
output = "unused";
datasets = (
  { name = "mnist"; kind = "mnist"; dir = "$COLLAPSE_MNIST_DIR"; max_train = 2000; }
);
vae = { hidden = [ 128, 128 ]; latent = 20; epochs = 1; learning_rate = 1e-3; reset = false; };
classifier = { type = "mlp"; hidden = [ 256, 256 ]; epochs = 1; learning_rate = 1e-3; };
EOF

members=$("$COLLAPSE_PROGRAM" members "$config")
[[ $members == 2 ]] || fail "collapse members printed '$members', expected 2"
pass "collapse members prints 2"

jobs_submitted=1
status=0
(cd "$COLLAPSE_SOURCE_DIR" && "$jobs_dir/submit-ensemble.sh" "$config" "$test_dir/out" \
  --wait --quiet --job-name="$test_name" --time=10 --ntasks=2 --output="$test_dir/task-%a.out") || status=$?
expect_status 0 "array of two members"

for task in 0 1; do
  expect_in_file "$test_dir/task-$task.out" "--member $task\$" "task $task runs member $task"
  expect_in_file "$test_dir/task-$task.out" "MPI world size 2 matches SLURM_NTASKS" "task $task: world size 2"
done
for member in mnist-s1 mnist-s2; do
  checkpoints=("$test_dir/out/$member"/gen-*.h5)
  [[ -e ${checkpoints[0]} && ${#checkpoints[@]} == "$generations" ]] ||
    fail "member $member has ${#checkpoints[@]} checkpoints under $test_dir/out/$member, expected $generations"
  pass "member $member wrote $generations checkpoints"
done

finish
