#!/usr/bin/env bash
# jobs/run-local.sh on the stand-in program, without Slurm: more ranks than cores, SIGTERM
# turned into a checkpoint-and-stop (exit 75 and a resume hint), the printed resume
# command, and invalid input. SIGINT takes the same path but cannot be tested this way:
# a background command of a shell without job control starts with SIGINT ignored.
# shellcheck source=tests/slurm/lib.sh
source "$(dirname "$0")/lib.sh"
: "${COLLAPSE_STANDIN:?set by CTest}"
export COLLAPSE_BIN=$COLLAPSE_STANDIN

config=$test_dir/local.cfg
printf 'wait_runs=1\nwait_s=60\n' >"$config"
ranks=$(($(nproc) + 1))

# First run: waits for a signal; SIGTERM to run-local.sh must reach every rank as SIGUSR1.
"$jobs_dir/run-local.sh" -n "$ranks" "$config" --output "$test_dir/out" 2>"$test_dir/first.out" &
pid=$!
for ((i = 0; i < 300; i++)); do
  grep -q "world size" "$test_dir/first.out" 2>/dev/null && break
  sleep 0.1
done
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
expect_status 75 "run-local stopped by SIGTERM"
expect_in_file "$test_dir/first.out" "--oversubscribe" "run-local oversubscribes $ranks ranks"
expect_in_file "$test_dir/out/runs.log" "^member=0 run=1 world_size=$ranks signal=10 status=75\$" \
  "run-local: every rank got SIGUSR1"
expect_in_file "$test_dir/first.out" "resume with: " "run-local prints the resume command"

# Second run: the printed command, which finishes.
resume=$(sed -n 's/.*resume with: //p' "$test_dir/first.out")
status=0
eval "$resume" 2>"$test_dir/second.out" || status=$?
expect_status 0 "printed resume command"
expect_in_file "$test_dir/out/runs.log" "^member=0 run=2 world_size=$ranks signal=0 status=0\$" "resumed run finished"
expect_in_file "$test_dir/second.out" "run-local: finished" "run-local reports the finish"

run_status "$jobs_dir/run-local.sh" -n 0 "$config"
expect_status 64 "run-local with zero ranks"
run_status "$jobs_dir/run-local.sh" -n 2 "$test_dir/missing.cfg"
expect_status 64 "run-local with a missing config"
run_status env COLLAPSE_BIN="$test_dir/missing" "$jobs_dir/run-local.sh" "$config"
expect_status 64 "run-local with a missing binary"
printf 'exit_status=5\n' >"$test_dir/failing.cfg"
run_status "$jobs_dir/run-local.sh" -n 1 "$test_dir/failing.cfg" --output "$test_dir/failing"
expect_status 5 "run-local passes on the program's error status"

finish
