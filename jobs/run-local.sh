#!/usr/bin/env bash
# Runs one collapse experiment on this machine with mpirun, without Slurm.
#
#   jobs/run-local.sh [-n RANKS] CONFIG [collapse run options, e.g. --output DIR --set KEY=VALUE]
#
# RANKS defaults to the number of cores (nproc). More ranks than cores is allowed and
# passes --oversubscribe to Open MPI's mpirun, so they share cores.
#
# Ctrl-C, SIGINT and SIGTERM ask the program to checkpoint and stop: the script forwards
# them as SIGUSR1, which mpirun passes to every rank. mpirun runs in its own session,
# because a Ctrl-C that reached mpirun itself would make it kill the ranks. On exit 75
# (stopped, resumable) the script prints the command that resumes the run and exits 75.
# It does not rerun by itself.
#
# COLLAPSE_BIN names the binary (default build/collapse in this repository). As root, the
# script sets OMPI_ALLOW_RUN_AS_ROOT and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM, which Open MPI
# requires before it runs as root.
set -euo pipefail

usage() {
  echo "usage: jobs/run-local.sh [-n RANKS] CONFIG [collapse run options]" >&2
}

die() {
  echo "run-local: error: $*" >&2
  exit 64
}

cores=$(nproc)
ranks=$cores
while (($# > 0)); do
  case $1 in
    -n | --ranks)
      (($# >= 2)) || die "$1 needs a value"
      ranks=$2
      shift 2
      ;;
    -n?*)
      ranks=${1#-n}
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) break ;;
  esac
done
[[ $ranks =~ ^[1-9][0-9]*$ ]] || die "RANKS must be a positive integer, got '$ranks'"
if (($# < 1)); then
  usage
  exit 64
fi
config=$1
shift
[[ -r $config ]] || die "config file '$config' not found"

repo_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${COLLAPSE_BIN:-$repo_dir/build/collapse}
[[ -x $bin ]] ||
  die "collapse binary '$bin' not found or not executable: build it with 'cmake -S . -B build && cmake --build build' or set COLLAPSE_BIN"
command -v mpirun >/dev/null 2>&1 || die "mpirun not found: install Open MPI (Debian: apt-get install openmpi-bin)"

if [[ $(id -u) -eq 0 ]]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

launch=(mpirun -n "$ranks")
if ((ranks > cores)); then
  if mpirun --version 2>/dev/null | grep -q "Open MPI"; then
    launch+=(--oversubscribe)
  fi
  echo "run-local: $ranks ranks on $cores cores: ranks share cores" >&2
fi

mpirun_pid=
# shellcheck disable=SC2317 # called from traps
forward_stop() {
  echo "run-local: received SIG$1; asking the program to checkpoint and stop (SIGUSR1)" >&2
  [[ -n $mpirun_pid ]] && kill -USR1 "$mpirun_pid" 2>/dev/null
  return 0
}
trap 'forward_stop INT' INT
trap 'forward_stop TERM' TERM
trap 'forward_stop USR1' USR1

command=("${launch[@]}" "$bin" run "$config" "$@")
echo "run-local: running: ${command[*]}" >&2
setsid "${command[@]}" &
mpirun_pid=$!

# wait returns early whenever a trapped signal arrives; keep waiting until mpirun is gone.
while :; do
  status=0
  wait "$mpirun_pid" || status=$?
  kill -0 "$mpirun_pid" 2>/dev/null || break
done

case $status in
  0) echo "run-local: finished" >&2 ;;
  75)
    resume=$(printf '%q ' "$0" -n "$ranks" "$config" "$@")
    echo "run-local: stopped early after a checkpoint; resume with: ${resume% }" >&2
    ;;
  *) echo "run-local: collapse failed with exit status $status" >&2 ;;
esac
exit "$status"
