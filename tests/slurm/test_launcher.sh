#!/usr/bin/env bash
# collapse.sbatch on the stand-in program: the automatic launcher choice, a forced mpirun,
# the MPI world size check (a reported size that differs from SLURM_NTASKS, and srun
# without PMI), and invalid submissions. The jobs run concurrently.
# shellcheck source=tests/slurm/lib.sh
source "$(dirname "$0")/lib.sh"
: "${COLLAPSE_STANDIN:?set by CTest}"

config=$test_dir/hello.cfg
echo "members=1" >"$config"
auto_launcher=$(expected_auto_launcher)
export COLLAPSE_BIN=$COLLAPSE_STANDIN

# Each case: name, environment for collapse.sbatch, sbatch options, collapse.sbatch arguments.
submit_case() {
  local name=$1 environment=$2 options=$3 arguments=$4
  # shellcheck disable=SC2086,SC2163 # the lists are split on spaces into words
  (
    export $environment
    submit_wait --output="$test_dir/$name.out" --time=2 $options "$jobs_dir/collapse.sbatch" $arguments
    echo "$status" >"$test_dir/$name.status"
  ) &
}

jobs_submitted=1
submit_case auto "COLLAPSE_LAUNCHER=auto" "--ntasks=4" "$config $test_dir/auto"
submit_case mpirun "COLLAPSE_LAUNCHER=mpirun" "--ntasks=4" "$config $test_dir/mpirun"
submit_case mismatch "COLLAPSE_LAUNCHER=auto" "--ntasks=4" "$config $test_dir/mismatch --set world_size=1"
submit_case no_pmi "COLLAPSE_LAUNCHER=srun COLLAPSE_SRUN_MPI=none" "--ntasks=2" "$config $test_dir/no_pmi"
submit_case no_binary "COLLAPSE_BIN=$test_dir/missing" "--ntasks=1" "$config $test_dir/no_binary"
submit_case no_config "COLLAPSE_LAUNCHER=auto" "--ntasks=1" "$test_dir/missing.cfg $test_dir/no_config"
submit_case no_arguments "COLLAPSE_LAUNCHER=auto" "--ntasks=1" ""
submit_case bad_launcher "COLLAPSE_LAUNCHER=ssh" "--ntasks=1" "$config $test_dir/bad_launcher"
wait

case_status() {
  status=$(<"$test_dir/$1.status")
}

case_status auto
expect_status 0 "automatic launcher"
expect_in_file "$test_dir/auto.out" "launcher $auto_launcher\$" "automatic launcher is $auto_launcher"
expect_in_file "$test_dir/auto.out" "MPI world size 4 matches SLURM_NTASKS" "automatic launcher: world size 4"
expect_in_file "$test_dir/auto/runs.log" "world_size=4 signal=0 status=0" "automatic launcher: stand-in ran once on 4 ranks"

case_status mpirun
expect_status 0 "mpirun launcher"
expect_in_file "$test_dir/mpirun.out" "launcher mpirun\$" "mpirun launcher chosen"
expect_in_file "$test_dir/mpirun.out" "MPI world size 4 matches SLURM_NTASKS" "mpirun launcher: world size 4"

case_status mismatch
expect_status 70 "world size mismatch"
expect_in_file "$test_dir/mismatch.out" "reports MPI world size 1 but the job has 4 tasks" "world size mismatch reported"
expect_not_in_file "$test_dir/mismatch.out" "requeueing job" "world size mismatch: no requeue"

# Open MPI aborts in MPI_Init when srun starts it without PMI; any failure other than
# exit 75 is right, as long as the job is not requeued and no one-rank world finishes.
case_status no_pmi
[[ $status != 0 && $status != 75 ]] || fail "srun without PMI: exit status $status, expected an error"
pass "srun without PMI: exit status $status"
expect_not_in_file "$test_dir/no_pmi/runs.log" "world_size=1" "srun without PMI: no one-rank world ran"
expect_not_in_file "$test_dir/no_pmi.out" "requeueing job" "srun without PMI: no requeue"

case_status no_binary
expect_status 64 "missing binary"
expect_in_file "$test_dir/no_binary.out" "collapse binary '.*/missing' not found" "missing binary reported"

case_status no_config
expect_status 64 "missing config"
expect_in_file "$test_dir/no_config.out" "config file '.*missing.cfg' not found" "missing config reported"

case_status no_arguments
expect_status 64 "no arguments"
expect_in_file "$test_dir/no_arguments.out" "missing CONFIG and OUTPUT" "no arguments reported"

case_status bad_launcher
expect_status 64 "unknown launcher"
expect_in_file "$test_dir/bad_launcher.out" "COLLAPSE_LAUNCHER must be auto, srun or mpirun, got 'ssh'" "unknown launcher reported"

finish
