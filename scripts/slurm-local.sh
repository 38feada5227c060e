#!/usr/bin/env bash
# Start, stop or inspect a single-node Slurm cluster on localhost, for trying and testing
# the batch scripts in jobs/ without a real cluster.
#
#   scripts/slurm-local.sh start    install missing packages, write the config, start
#                                   munged, slurmctld and slurmd, wait for the node to be idle
#   scripts/slurm-local.sh stop     cancel the cluster's jobs and stop its daemons (idempotent)
#   scripts/slurm-local.sh status   show the daemons and sinfo; exit 0 only if all three run
#   scripts/slurm-local.sh env      print `export SLURM_CONF=...`; use: eval "$(... env)"
#
# Everything lives in one state folder, COLLAPSE_SLURM_DIR (default
# ${TMPDIR:-/tmp}/collapse-slurm): slurm.conf, the munge key and socket, state save
# location, spool, logs and pid files. munged runs with its own key and socket, so a system
# munge, if any, is left alone. All daemons run as root, and so do the jobs.
#
# The one partition, local, gives jobs 10 minutes unless they ask for more with --time, and
# at most 1 hour. Longer requests, such as the 12 hours that jobs/*.sbatch ask for by
# default, are rejected with "Requested time limit is invalid".
#
# Environment (read by start; the values are written into slurm.conf):
#   COLLAPSE_SLURM_DIR            state folder
#   COLLAPSE_SLURM_PORT           slurmctld port (default 6817); slurmd uses the next port
#   COLLAPSE_SLURM_CPUS           CPUs the node claims (default: the larger of the real
#                                 count and 4)
#   COLLAPSE_SLURM_START_TIMEOUT  seconds to wait for the node to become idle (default 60)
set -euo pipefail

# The daemons live in /usr/sbin, which a non-login PATH may lack.
export PATH=$PATH:/usr/sbin:/sbin

state_dir=${COLLAPSE_SLURM_DIR:-${TMPDIR:-/tmp}/collapse-slurm}
ctld_port=${COLLAPSE_SLURM_PORT:-6817}
start_timeout_s=${COLLAPSE_SLURM_START_TIMEOUT:-60}

if [[ ! $ctld_port =~ ^[0-9]+$ ]] || ((ctld_port < 1024 || ctld_port > 65534)); then
  echo "slurm-local: error: COLLAPSE_SLURM_PORT must be a port number from 1024 to 65534, got '$ctld_port'" >&2
  exit 1
fi
if [[ ! $start_timeout_s =~ ^[1-9][0-9]*$ ]]; then
  echo "slurm-local: error: COLLAPSE_SLURM_START_TIMEOUT must be a positive number of seconds, got '$start_timeout_s'" >&2
  exit 1
fi

conf=$state_dir/slurm.conf
munge_socket=$state_dir/munge/munge.socket
run_dir=$state_dir/run
log_dir=$state_dir/log

die() {
  echo "slurm-local: error: $*" >&2
  exit 1
}

log() {
  echo "slurm-local: $*" >&2
}

usage() {
  sed -n '2,26s/^# \{0,1\}//p' "$0" >&2
}

# ---------------------------------------------------------------- packages

# Installs Debian's Slurm and munge packages when any of their programs is missing.
ensure_packages() {
  local missing=0 program
  for program in slurmctld slurmd sinfo sbatch srun scontrol scancel munged munge; do
    if ! command -v "$program" >/dev/null 2>&1; then
      missing=1
    fi
  done
  if ((missing == 0)); then
    return
  fi
  log "installing slurm-wlm and munge with apt-get"
  if [[ $(id -u) -ne 0 ]]; then
    die "Slurm or munge is not installed and installing needs root: run 'apt-get install -y slurm-wlm munge' as root"
  fi
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y slurm-wlm slurmctld slurmd slurm-client munge
}

# Sets slurm_version and rejects releases older than 20.02. The config uses
# SlurmdParameters=config_overrides (Slurm 19.05.3 and later, per Slurm's NEWS) and was
# tested with 22.05.
check_version() {
  local major minor
  slurm_version=$(slurmctld -V | awk '{print $2}')
  major=${slurm_version%%.*}
  minor=${slurm_version#*.}
  minor=${minor%%.*}
  [[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ ]] || die "failed to parse the Slurm version from 'slurmctld -V': '$slurm_version'"
  if ((10#$major < 20 || (10#$major == 20 && 10#$minor < 2))); then
    die "Slurm $slurm_version is too old for this script's slurm.conf; install Slurm 20.02 or newer"
  fi
}

# ---------------------------------------------------------------- processes

# Prints the pid stored in pid file $1 if that process is alive and its command name
# starts with $2 (so a pid reused by another program after a crash is not touched).
live_pid() {
  local pid_file=$1 name=$2 pid comm
  [[ -r $pid_file ]] || return 1
  pid=$(<"$pid_file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  [[ $comm == "$name"* ]] || return 1
  echo "$pid"
}

# Sends SIGTERM to the daemon in pid file $1, waits up to 10 s, then sends SIGKILL.
stop_daemon() {
  local pid_file=$1 name=$2 pid i
  if ! pid=$(live_pid "$pid_file" "$name"); then
    rm -f "$pid_file"
    return
  fi
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    [[ -d /proc/$pid ]] || break
    sleep 0.1
  done
  if [[ -d /proc/$pid ]]; then
    log "$name (pid $pid) did not stop within 10 s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
}

print_log_tails() {
  local file
  for file in "$log_dir"/munged.log "$log_dir"/slurmctld.log "$log_dir"/slurmd.log; do
    if [[ -s $file ]]; then
      echo "---- last lines of $file" >&2
      tail -n 20 "$file" >&2
    fi
  done
}

# ---------------------------------------------------------------- configuration

# Writes slurm.conf for one node named localhost.
write_config() {
  local real_cpus real_memory_mb node_cpus
  real_cpus=$(slurmd -C | sed -n 's/.*CPUs=\([0-9]*\).*/\1/p')
  real_memory_mb=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
  [[ $real_cpus =~ ^[0-9]+$ && $real_memory_mb =~ ^[0-9]+$ ]] ||
    die "could not read CPUs and RealMemory from 'slurmd -C'"
  node_cpus=${COLLAPSE_SLURM_CPUS:-$((real_cpus > 4 ? real_cpus : 4))}
  [[ $node_cpus =~ ^[1-9][0-9]*$ ]] || die "COLLAPSE_SLURM_CPUS must be a positive integer, got '$node_cpus'"

  cat >"$conf" <<EOF
# Single-node test cluster written by scripts/slurm-local.sh; rewritten on every start.
ClusterName=collapse-local
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$((ctld_port + 1))
SlurmUser=root
SlurmdUser=root

# munged of this cluster, with its own key and socket. cred_expire also sets how long a
# requeued job waits before it may start again (default 120 s; the minimum is 5 s).
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$munge_socket,cred_expire=10

StateSaveLocation=$state_dir/state
SlurmdSpoolDir=$state_dir/spool
SlurmctldPidFile=$run_dir/slurmctld.pid
SlurmdPidFile=$run_dir/slurmd.pid
SlurmctldLogFile=$log_dir/slurmctld.log
SlurmdLogFile=$log_dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$state_dir/plugstack.conf
MailProg=/bin/true

# Containers have no writable cgroup tree: track processes through /proc, bind nothing.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none

SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobRequeue=1
ReturnToService=2
KillWait=10
# sbatch --wait polls after 2, 8, then every 32 s, but keeps 2 s while MinJobAge is below
# 6 s (sbatch.c of Slurm 22.05). In exchange a finished job leaves squeue within seconds.
MinJobAge=4
EnforcePartLimits=ALL
# Schedule pending and requeued jobs within seconds instead of the default 60 s / 30 s.
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2

# The node claims $node_cpus CPUs while it has $real_cpus, so that jobs with 4 tasks (the MPI
# tests' largest layout) also run on 2-core machines, where the ranks then share cores.
# config_overrides makes slurmd accept the configured count instead of marking the node
# invalid.
SlurmdParameters=config_overrides
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$node_cpus RealMemory=$real_memory_mb State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES DefaultTime=00:10:00 MaxTime=01:00:00 State=UP
EOF
  : >"$state_dir/plugstack.conf"
}

# ---------------------------------------------------------------- commands

start_munged() {
  local key=$state_dir/munge/munge.key i
  if [[ ! -s $key ]]; then
    mungekey --create --keyfile="$key" --bits=1024 2>/dev/null ||
      dd if=/dev/urandom of="$key" bs=128 count=1 status=none
  fi
  chmod 0600 "$key"

  # --force: the state folder may sit under a world-writable /tmp, which munged otherwise
  # rejects as an insecure socket location.
  munged --force --key-file="$key" --socket="$munge_socket" \
    --pid-file="$run_dir/munged.pid" --log-file="$log_dir/munged.log" \
    --seed-file="$state_dir/munge/munged.seed"
  for ((i = 0; i < 50; i++)); do
    if munge -n -S "$munge_socket" 2>/dev/null | unmunge -S "$munge_socket" >/dev/null 2>&1; then
      return
    fi
    sleep 0.1
  done
  print_log_tails
  die "munged did not respond on $munge_socket within 5 s"
}

node_state() {
  SLURM_CONF=$conf sinfo --noheader --Node --format=%T 2>/dev/null | head -n 1
}

cmd_start() {
  local pid state name i
  if pid=$(live_pid "$run_dir/slurmctld.pid" slurmctld) && live_pid "$run_dir/slurmd.pid" slurmd >/dev/null &&
    live_pid "$run_dir/munged.pid" munged >/dev/null; then
    log "already running (slurmctld pid $pid, state folder $state_dir)"
    return
  fi
  # A partly running cluster (one daemon died) is restarted as a whole.
  cmd_stop

  # A Unix socket path has at most 107 bytes (sun_path). slurmstepd's sockets are
  # spool/localhost_<job id>.<step id> in the state folder, up to 38 bytes more.
  ((${#state_dir} <= 64)) ||
    die "state folder path '$state_dir' is longer than 64 characters, too long for Unix sockets; set COLLAPSE_SLURM_DIR to a shorter path"
  ensure_packages
  check_version
  mkdir -p "$state_dir"/{munge,state,spool,run,log}
  chmod 0755 "$state_dir/munge"
  write_config
  log "Slurm $slurm_version, state folder $state_dir, slurmctld port $ctld_port"

  start_munged
  slurmctld -f "$conf" || { print_log_tails; cmd_stop; die "slurmctld failed to start"; }
  slurmd -f "$conf" -N localhost || { print_log_tails; cmd_stop; die "slurmd failed to start"; }

  for ((i = 0; i < start_timeout_s * 2; i++)); do
    # A daemon that wrote its pid file and exited has failed (a busy port, a bad config).
    for name in slurmctld slurmd; do
      if [[ -s $run_dir/$name.pid ]] && ! live_pid "$run_dir/$name.pid" "$name" >/dev/null; then
        print_log_tails
        cmd_stop
        die "$name exited during startup; see its log above"
      fi
    done
    state=$(node_state || true)
    case $state in
      idle) break ;;
      down* | drain* | fail* | inval*)
        SLURM_CONF=$conf scontrol update NodeName=localhost State=RESUME 2>/dev/null || true
        ;;
    esac
    sleep 0.5
  done
  if [[ $state != idle ]]; then
    print_log_tails
    cmd_stop
    die "node localhost is '${state:-unknown}', not idle, after ${start_timeout_s} s; see the logs above"
  fi
  log "node localhost is idle; run: eval \"\$($0 env)\""
}

# Cancels the cluster's jobs, waits for them to end, then stops the daemons.
cancel_jobs() {
  local i jobs pids
  live_pid "$run_dir/slurmctld.pid" slurmctld >/dev/null || return 0
  jobs=$(SLURM_CONF=$conf squeue --noheader --format=%A 2>/dev/null || true)
  [[ -n $jobs ]] || return 0
  log "cancelling jobs: $(echo "$jobs" | tr '\n' ' ')"
  # shellcheck disable=SC2086 # one job id per word
  SLURM_CONF=$conf scancel $jobs 2>/dev/null || true
  for ((i = 0; i < 40; i++)); do
    jobs=$(SLURM_CONF=$conf squeue --noheader --states=RUNNING,COMPLETING --format=%A 2>/dev/null || true)
    [[ -n $jobs ]] || return 0
    sleep 0.5
  done
  # Tasks that outlived their jobs' cancellation: scontrol listpids finds them through slurmd's spool.
  pids=$(SLURM_CONF=$conf scontrol listpids 2>/dev/null | awk 'NR > 1 && $1 ~ /^[0-9]+$/ {print $1}' || true)
  if [[ -n $pids ]]; then
    log "killing leftover job processes: $(echo "$pids" | tr '\n' ' ')"
    # shellcheck disable=SC2086 # one pid per word
    kill -KILL $pids 2>/dev/null || true
  fi
}

cmd_stop() {
  cancel_jobs
  stop_daemon "$run_dir/slurmd.pid" slurmd
  stop_daemon "$run_dir/slurmctld.pid" slurmctld
  stop_daemon "$run_dir/munged.pid" munged
}

cmd_status() {
  local name pid running=0
  for name in munged slurmctld slurmd; do
    if pid=$(live_pid "$run_dir/$name.pid" "$name"); then
      echo "$name: running (pid $pid)"
      running=$((running + 1))
    else
      echo "$name: not running"
    fi
  done
  echo "state folder: $state_dir"
  if ((running == 3)); then
    SLURM_CONF=$conf sinfo
    return 0
  fi
  return 1
}

cmd_env() {
  [[ -r $conf ]] || die "no cluster config at $conf; run '$0 start' first"
  printf 'export SLURM_CONF=%q\n' "$conf"
}

main() {
  case ${1:-} in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) cmd_env ;;
    -h | --help | help) usage ;;
    *)
      usage
      die "expected one of start, stop, status, env; got '${1:-}'"
      ;;
  esac
}

main "$@"
