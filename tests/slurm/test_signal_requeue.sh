#!/usr/bin/env bash
# The warning signal before a time limit, on the stand-in program: with --time=1 and
# --signal=B:USR1@50, Slurm signals the batch shell well before the limit (it checks
# limits about every 30 s, so the signal arrives 0-30 s into the job, as observed with
# Slurm 22.05). Three jobs run concurrently:
#   capped    always stops on the signal; requeued once (COLLAPSE_MAX_REQUEUES=1), then
#             ends with exit 75 and a message instead of a second requeue
#   resumed   stops on the signal once, is requeued, and finishes on its second run; uses
#             mpirun to check that mpirun passes SIGUSR1 to the ranks
#   cancelled stopped with scancel (SIGTERM): not requeued, whatever its exit status
# shellcheck source=tests/slurm/lib.sh
source "$(dirname "$0")/lib.sh"
: "${COLLAPSE_STANDIN:?set by CTest}"
export COLLAPSE_BIN=$COLLAPSE_STANDIN

printf 'wait_runs=9\nwait_s=150\n' >"$test_dir/capped.cfg"
printf 'wait_runs=1\nwait_s=150\n' >"$test_dir/resumed.cfg"
printf 'wait_runs=9\nwait_s=150\n' >"$test_dir/cancelled.cfg"
signal_options=(--time=1 --signal=B:USR1@50 --ntasks=2)

jobs_submitted=1

(
  export COLLAPSE_MAX_REQUEUES=1
  submit_wait "${signal_options[@]}" --output="$test_dir/capped.out" \
    "$jobs_dir/collapse.sbatch" "$test_dir/capped.cfg" "$test_dir/capped"
  echo "$status" >"$test_dir/capped.status"
) &
(
  export COLLAPSE_LAUNCHER=mpirun
  submit_wait "${signal_options[@]}" --output="$test_dir/resumed.out" \
    "$jobs_dir/collapse.sbatch" "$test_dir/resumed.cfg" "$test_dir/resumed"
  echo "$status" >"$test_dir/resumed.status"
) &

# The cancelled job has no warning signal; it is cancelled once the stand-in runs.
job_id=$(cd "$COLLAPSE_SOURCE_DIR" && sbatch --parsable --job-name="$test_name" --time=2 --ntasks=1 \
  --output="$test_dir/cancelled.out" "$jobs_dir/collapse.sbatch" "$test_dir/cancelled.cfg" "$test_dir/cancelled")
for ((i = 0; i < 300; i++)); do
  grep -q "world size" "$test_dir/cancelled.out" 2>/dev/null && break
  sleep 0.2
done
scancel "$job_id"
for ((i = 0; i < 150; i++)); do
  [[ -z $(squeue --noheader --jobs="$job_id" 2>/dev/null) ]] && break
  sleep 0.2
done
wait

status=$(<"$test_dir/capped.status")
expect_status 75 "capped job"
expect_count "$test_dir/capped/runs.log" "signal=10 status=75" 2 "capped job: two runs, each stopped by SIGUSR1"
expect_count "$test_dir/capped.out" "requeueing job" 1 "capped job: requeued once"
expect_in_file "$test_dir/capped.out" "already requeued 1 times \(COLLAPSE_MAX_REQUEUES=1\); not requeueing" \
  "capped job: requeue limit reported"

status=$(<"$test_dir/resumed.status")
expect_status 0 "resumed job"
expect_in_file "$test_dir/resumed.out" "launcher mpirun\$" "resumed job: mpirun launcher"
expect_in_file "$test_dir/resumed/runs.log" "^member=0 run=1 world_size=2 signal=10 status=75\$" \
  "resumed job: first run stopped by SIGUSR1 through mpirun"
expect_in_file "$test_dir/resumed/runs.log" "^member=0 run=2 world_size=2 signal=0 status=0\$" \
  "resumed job: second run finished"
expect_count "$test_dir/resumed.out" "requeueing job" 1 "resumed job: requeued once"

expect_in_file "$test_dir/cancelled.out" "stopped by SIGTERM .*not requeueing|failed with exit status .*not requeueing" \
  "cancelled job: not requeued"
expect_not_in_file "$test_dir/cancelled.out" "requeueing job" "cancelled job: no requeue request"
expect_count "$test_dir/cancelled.out" "collapse.sbatch: job [0-9]+" 1 "cancelled job: started once"

finish
