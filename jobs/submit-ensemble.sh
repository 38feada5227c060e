#!/usr/bin/env bash
# Submits an ensemble as a Slurm job array with one array task per member.
#
#   jobs/submit-ensemble.sh CONFIG OUTPUT [sbatch options]
#
# The member count comes from `collapse members CONFIG`; the array is 0-(count-1) and task
# i runs member i with jobs/collapse-array.sbatch. sbatch options (e.g. --time, --ntasks,
# --wait, --array=0-7%2 to cap the tasks running at once) follow OUTPUT; an --array given
# there replaces the computed one. Run options for collapse go in the environment variable
# COLLAPSE_RUN_ARGS (split on spaces), e.g. COLLAPSE_RUN_ARGS="--set generations=5".
# COLLAPSE_BIN names the binary (default build/collapse under the current folder).
# Prints sbatch's output; the exit status is sbatch's.
set -euo pipefail

die() {
  echo "submit-ensemble: error: $*" >&2
  exit 64
}

if (($# < 2)) || [[ $1 == -* || $2 == -* ]]; then
  echo "usage: jobs/submit-ensemble.sh CONFIG OUTPUT [sbatch options]" >&2
  exit 64
fi
config=$1
output=$2
shift 2

jobs_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=${COLLAPSE_BIN:-$PWD/build/collapse}
[[ -x $bin ]] || die "collapse binary '$bin' not found or not executable: build it first (cmake -S . -B build && cmake --build build) or set COLLAPSE_BIN"
[[ -r $config ]] || die "config file '$config' not found"
command -v sbatch >/dev/null 2>&1 || die "sbatch not found: run this on a Slurm login node"

members=$("$bin" members "$config") || die "'$bin members $config' failed"
[[ $members =~ ^[1-9][0-9]*$ ]] || die "'$bin members $config' printed '$members', expected a positive integer"

array=(--array="0-$((members - 1))")
for arg in "$@"; do
  [[ $arg == --array=* || $arg == -a || $arg == --array ]] && array=()
done

# shellcheck disable=SC2206 # COLLAPSE_RUN_ARGS is split on spaces by design
run_args=(${COLLAPSE_RUN_ARGS:-})
echo "submit-ensemble: $members members of $config" >&2
COLLAPSE_BIN=$bin COLLAPSE_JOBS_DIR=$jobs_dir \
  exec sbatch "${array[@]}" "$@" "$jobs_dir/collapse-array.sbatch" "$config" "$output" "${run_args[@]}"
