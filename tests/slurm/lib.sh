# shellcheck shell=bash
# Shared helpers of the Slurm tests, sourced by each test script.
#
# CTest sets (see CMakeLists.txt beside this file):
#   SLURM_CONF                the test cluster's slurm.conf (scripts/slurm-local.sh)
#   COLLAPSE_SOURCE_DIR       the repository, from which jobs are submitted
#   COLLAPSE_TEST_DIR         this test's own folder for outputs and job logs
#   COLLAPSE_STANDIN          the stand-in program (collapse_standin.c)
#   COLLAPSE_PROGRAM          the real collapse binary
#   COLLAPSE_MNIST_DIR        folder with the four MNIST IDX files
#
# A test prints one "ok" or "FAIL" line per check and exits 1 after the first failure,
# after printing the logs of the jobs it submitted.

set -euo pipefail

: "${SLURM_CONF:?set by CTest}" "${COLLAPSE_SOURCE_DIR:?set by CTest}" "${COLLAPSE_TEST_DIR:?set by CTest}"
export SLURM_CONF

test_name=$(basename "$0" .sh)
# shellcheck disable=SC2034 # used by the test scripts
jobs_dir=$COLLAPSE_SOURCE_DIR/jobs
test_dir=$COLLAPSE_TEST_DIR
checks_passed=0

rm -rf "$test_dir"
mkdir -p "$test_dir"

# Cancels this test's jobs that are still queued or running, so a failed or timed-out
# test does not hold the cluster's CPUs for the next one. Tests that submitted nothing
# skip it: scancel retries for many seconds when no cluster runs.
jobs_submitted=0
cancel_own_jobs() {
  if ((jobs_submitted)); then
    timeout 30 scancel --name="$test_name" 2>/dev/null || true
  fi
}
trap cancel_own_jobs EXIT

print_job_logs() {
  local file
  for file in "$test_dir"/*.out; do
    [[ -e $file ]] || continue
    echo "---- $file"
    cat "$file"
  done
}

fail() {
  echo "FAIL: $*"
  print_job_logs
  exit 1
}

pass() {
  checks_passed=$((checks_passed + 1))
  echo "ok: $*"
}

# Runs a command and records its exit status in $status without tripping set -e.
run_status() {
  status=0
  "$@" || status=$?
}

# Submits with sbatch --wait from the repository folder and stores the job's exit status
# in $status. The job is named after this test, so cancel_own_jobs finds it.
submit_wait() {
  jobs_submitted=1
  status=0
  (cd "$COLLAPSE_SOURCE_DIR" && sbatch --wait --job-name="$test_name" --quiet "$@") || status=$?
}

expect_status() {
  local expected=$1 what=$2
  if [[ $status != "$expected" ]]; then
    fail "$what: exit status $status, expected $expected"
  fi
  pass "$what: exit status $expected"
}

# expect_in_file FILE PATTERN WHAT: FILE has a line matching the extended regex PATTERN.
expect_in_file() {
  local file=$1 pattern=$2 what=$3
  [[ -e $file ]] || fail "$what: $file not found"
  grep -Eq -- "$pattern" "$file" || fail "$what: no line of $file matches '$pattern'"
  pass "$what"
}

expect_not_in_file() {
  local file=$1 pattern=$2 what=$3
  if [[ -e $file ]] && grep -Eq -- "$pattern" "$file"; then
    fail "$what: $file has a line matching '$pattern'"
  fi
  pass "$what"
}

# expect_count FILE PATTERN COUNT WHAT: exactly COUNT lines of FILE match PATTERN.
expect_count() {
  local file=$1 pattern=$2 expected=$3 what=$4 count
  count=$(grep -Ec -- "$pattern" "$file" 2>/dev/null || true)
  count=${count:-0}
  [[ $count == "$expected" ]] || fail "$what: $count lines of $file match '$pattern', expected $expected"
  pass "$what"
}

finish() {
  echo "$test_name: $checks_passed checks passed"
}

# The srun launcher is what collapse.sbatch picks automatically when both Slurm's PMIx
# plugin and Open MPI's PMIx client exist.
expected_auto_launcher() {
  if srun --mpi=list 2>&1 | grep -Eq '(^|[[:space:]])pmix([[:space:]]|$)' &&
    ompi_info --parsable 2>/dev/null | grep -Eq '^mca:pmix:(ext|pmix)[0-9]'; then
    echo srun
  else
    echo mpirun
  fi
}

require_real_program() {
  : "${COLLAPSE_PROGRAM:?set by CTest}" "${COLLAPSE_MNIST_DIR:?set by CTest}"
  [[ -x $COLLAPSE_PROGRAM ]] || fail "collapse binary $COLLAPSE_PROGRAM not found; build the project first"
  local file
  for file in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    [[ -e $COLLAPSE_MNIST_DIR/$file || -e $COLLAPSE_MNIST_DIR/$file.gz ]] ||
      fail "MNIST file $COLLAPSE_MNIST_DIR/$file not found; run scripts/setup.sh"
  done
}
