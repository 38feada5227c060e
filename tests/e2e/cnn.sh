#!/usr/bin/env bash
# A short training of the EMNIST CNN classifier (3 convolutions of 32, 64 and 128 channels)
# on real EMNIST digits: 8,000 training and 2,000 held-out test images of the EMNIST-MNIST
# split, 2 epochs. It must reach 95% real-test accuracy.
set -euo pipefail
collapse=$1
work=$2
source "$COLLAPSE_SOURCE_DIR/tests/lib.sh"
rm -rf "$work"
mkdir -p "$work"
run_mpi 2 "$collapse" run "$COLLAPSE_SOURCE_DIR/config/emnist.cfg" --output "$work/out" \
    --set "datasets.[0].dir=\"$COLLAPSE_EMNIST_DIR\"" --set "datasets.[0].split=\"mnist\"" \
    --set "datasets.[0].train_images=\"emnist-mnist-test-images-idx3-ubyte.gz\"" \
    --set "datasets.[0].train_labels=\"emnist-mnist-test-labels-idx1-ubyte.gz\"" \
    --set "datasets.[0].mapping=\"emnist-mnist-mapping.txt\"" --set "datasets.[0].holdout=2000" \
    --set generations=1 --set vae.epochs=1 --set classifier.epochs=2 --set classifier.learning_rate=1e-3 \
    --set sample_grid=0 2> "$work/run.log" || { tail -20 "$work/run.log"; exit 1; }
grep "classifier epoch" "$work/run.log"
"$PYTHON" "$COLLAPSE_SOURCE_DIR/tests/e2e/check_run.py" "$work/out/emnist-s1" 1 8000 0.95
