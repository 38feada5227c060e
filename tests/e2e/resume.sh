#!/usr/bin/env bash
# Interrupt runs at several points (stop signals, SIGKILL during training and during a
# checkpoint write, a damaged checkpoint) and check that resuming on the same number of
# ranks ends with files identical to an uninterrupted run.
set -euo pipefail
collapse=$1
work=$2
source "$COLLAPSE_SOURCE_DIR/tests/lib.sh"
rm -rf "$work"
mkdir -p "$work"
args=(run "$COLLAPSE_SOURCE_DIR/config/smoke.cfg" --set "datasets.[0].dir=\"$COLLAPSE_MNIST_DIR\""
      --set vae.epochs=12 --set classifier.epochs=12 --set samples=3000 --set "datasets.[0].max_train=3000")

compare() {
    "$PYTHON" "$COLLAPSE_SOURCE_DIR/tests/compare_checkpoints.py" --exact "$work/reference/mnist-s1" "$1/mnist-s1"
}

# start_run OUT: starts the run in the background; sets run_pid.
start_run() {
    run_mpi 2 "$collapse" "${args[@]}" --output "$1" 2>> "$1.log" &
    run_pid=$!
}

# wait_for PATTERN FILE: waits up to 120 s until FILE contains PATTERN (or a path exists).
wait_for() {
    for _ in $(seq 1200); do
        if [ "$1" = --file ]; then compgen -G "$2" > /dev/null && return 0
        else grep -q "$1" "$2" 2> /dev/null && return 0; fi
        sleep 0.1
    done
    echo "timed out waiting for $*" >&2
    return 1
}

# expect_log PATTERN FILE: fails with the log's tail unless FILE contains PATTERN.
expect_log() {
    grep -q "$1" "$2" && return 0
    echo "expected '$1' in $2; its last lines:" >&2
    tail -5 "$2" >&2
    return 1
}

# signal_ranks SIGNAL OUT: signals the rank processes (not mpirun) of the run writing to OUT,
# as Slurm signals every task of a step.
signal_ranks() {
    pkill "-$1" -f -- "^$collapse run .*--output $2( |\$)" || true
}

echo "== uninterrupted reference"
run_mpi 2 "$collapse" "${args[@]}" --output "$work/reference" 2> "$work/reference.log"

echo "== SIGTERM during VAE training: saved, exit 75, resumed"
out=$work/term
mkdir -p "$out"
start_run "$out"
wait_for "gen 1 VAE epoch 2/12" "$out.log"
signal_ranks TERM "$out"
status=0
wait "$run_pid" || status=$?
[ "$status" = 75 ] || { echo "expected exit 75, got $status" >&2; cat "$out.log"; exit 1; }
test -f "$out/mnist-s1/progress.h5"
expect_log "stop requested: saved generation 1, VAE epoch" "$out.log"
run_mpi 2 "$collapse" "${args[@]}" --output "$out" 2>> "$out.log"
expect_log "continuing generation 1 at VAE epoch" "$out.log"
compare "$out"

echo "== SIGUSR1 to mpirun during classifier training: forwarded, saved, resumed"
out=$work/usr1
mkdir -p "$out"
start_run "$out"
wait_for "gen 0 classifier epoch 2/12" "$out.log"
pkill -USR1 -f -- "^${MPIEXEC:-mpirun} -n 2 .*--output $out( |\$)"
status=0
wait "$run_pid" || status=$?
[ "$status" = 75 ] || { echo "expected exit 75, got $status" >&2; cat "$out.log"; exit 1; }
run_mpi 2 "$collapse" "${args[@]}" --output "$out" 2>> "$out.log"
expect_log "continuing generation 0 at classifier epoch" "$out.log"
compare "$out"

echo "== SIGKILL during classifier training: nothing saved, generation restarted"
out=$work/kill-train
mkdir -p "$out"
start_run "$out"
wait_for "gen 1 classifier epoch 2/12" "$out.log"
signal_ranks KILL "$out"
wait "$run_pid" || true
run_mpi 2 "$collapse" "${args[@]}" --output "$out" 2>> "$out.log"
expect_log "resuming after generation 0" "$out.log"
compare "$out"

echo "== SIGKILL during a checkpoint write: the temporary file never counts"
out=$work/kill-write
mkdir -p "$out"
start_run "$out"
wait_for --file "$out/mnist-s1/gen-001.h5.tmp"
signal_ranks KILL "$out"
wait "$run_pid" || true
ls "$out/mnist-s1"
if [ -f "$out/mnist-s1/gen-001.h5" ]; then
    echo "note: the write finished before the kill landed"
fi
run_mpi 2 "$collapse" "${args[@]}" --output "$out" 2>> "$out.log"
compare "$out"

echo "== a truncated checkpoint is set aside and recomputed"
out=$work/damaged
cp -r "$work/reference" "$out"
truncate -s 4096 "$out/mnist-s1/gen-001.h5"
run_mpi 2 "$collapse" "${args[@]}" --output "$out" 2> "$out.log"
expect_log "set aside .*gen-001.h5" "$out.log"
test -f "$out/mnist-s1/gen-001.h5.invalid"
compare "$out"

echo "== a missing generation: later checkpoints are set aside, not overwritten"
out=$work/gap
cp -r "$work/reference" "$out"
rm "$out/mnist-s1/gen-001.h5"
run_mpi 2 "$collapse" "${args[@]}" --output "$out" 2> "$out.log"
expect_log "set aside .*gen-002.h5 .*an earlier generation is missing" "$out.log"
test -f "$out/mnist-s1/gen-002.h5.invalid"
compare "$out"

echo "== a checkpoint of other settings refuses to resume and is left alone"
out=$work/other
cp -r "$work/reference" "$out"
sha256sum "$out"/mnist-s1/gen-*.h5 > "$work/other.sha256"
status=0
run_mpi 2 "$collapse" "${args[@]}" --output "$out" --set vae.latent=8 2> "$out.log" || status=$?
[ "$status" = 1 ] || { echo "expected exit 1, got $status" >&2; exit 1; }
expect_log "written with other settings" "$out.log"
expect_log "vae.latent = 8 (recorded: vae.latent = 20)" "$out.log"
sha256sum -c --quiet "$work/other.sha256"
echo "all interruptions resumed to identical files"
