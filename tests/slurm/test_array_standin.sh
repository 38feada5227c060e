#!/usr/bin/env bash
# submit-ensemble.sh and collapse-array.sbatch on the stand-in program: two members, one
# array task each. Member 1 stops on the warning signal once; only its task is requeued,
# and member 0's task runs once. Also checks the helper's invalid-input errors.
# shellcheck source=tests/slurm/lib.sh
source "$(dirname "$0")/lib.sh"
: "${COLLAPSE_STANDIN:?set by CTest}"
export COLLAPSE_BIN=$COLLAPSE_STANDIN

config=$test_dir/ensemble.cfg
printf 'members=2\nwait_member=1\nwait_runs=1\nwait_s=150\n' >"$config"

jobs_submitted=1
status=0
(cd "$COLLAPSE_SOURCE_DIR" && "$jobs_dir/submit-ensemble.sh" "$config" "$test_dir/out" \
  --wait --quiet --job-name="$test_name" --time=1 --signal=B:USR1@50 --ntasks=2 \
  --output="$test_dir/task-%a.out") || status=$?
expect_status 0 "array of two members"

expect_count "$test_dir/out/runs.log" "^member=0 " 1 "member 0 ran once"
expect_in_file "$test_dir/out/runs.log" "^member=0 run=1 world_size=2 signal=0 status=0\$" "member 0 finished at once"
expect_in_file "$test_dir/out/runs.log" "^member=1 run=1 world_size=2 signal=10 status=75\$" "member 1 stopped by SIGUSR1"
expect_in_file "$test_dir/out/runs.log" "^member=1 run=2 world_size=2 signal=0 status=0\$" "member 1 finished after requeue"
expect_not_in_file "$test_dir/task-0.out" "requeueing job" "task 0 not requeued"
expect_count "$test_dir/task-1.out" "requeueing job" 1 "task 1 requeued once"
expect_in_file "$test_dir/task-1.out" "run .* --member 1\$" "task 1 runs member 1"

# Invalid input to the helper: no submission happens.
run_status "$jobs_dir/submit-ensemble.sh" "$config"
expect_status 64 "submit-ensemble without OUTPUT"
run_status env COLLAPSE_BIN="$test_dir/missing" "$jobs_dir/submit-ensemble.sh" "$config" "$test_dir/out2"
expect_status 64 "submit-ensemble with a missing binary"
printf 'members=0\n' >"$test_dir/empty.cfg"
run_status "$jobs_dir/submit-ensemble.sh" "$test_dir/empty.cfg" "$test_dir/out3"
expect_status 64 "submit-ensemble with zero members"
[[ ! -e $test_dir/out2 && ! -e $test_dir/out3 ]] || fail "submit-ensemble submitted a job for invalid input"
pass "submit-ensemble submitted nothing for invalid input"

finish
