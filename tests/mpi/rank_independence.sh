#!/usr/bin/env bash
# Trains one small member on 1, 2 and 3 ranks and compares the checkpoints. Only the order of
# floating-point sums differs; Adam divides by sqrt(v), so rounding in near-zero gradients can
# move a weight by up to about the learning rate, hence a relative tolerance of 5e-4. 258 training
# images in batches of 128 leave a last batch of 2, so on 3 ranks one rank has an empty shard.
set -euo pipefail
collapse=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
source "$COLLAPSE_SOURCE_DIR/tests/lib.sh"

for ranks in 1 2 3; do
    run_mpi "$ranks" "$collapse" run "$COLLAPSE_SOURCE_DIR/config/smoke.cfg" --output "$work/np$ranks" \
        --set generations=2 --set samples=258 --set "datasets.[0].max_train=258" \
        --set "datasets.[0].dir=\"$COLLAPSE_MNIST_DIR\"" --set vae.epochs=2 --set classifier.epochs=2 \
        2> "$work/np$ranks.log" || { cat "$work/np$ranks.log"; exit 1; }
done
"$PYTHON" "$COLLAPSE_SOURCE_DIR/tests/compare_checkpoints.py" --params-tolerance 5e-4 \
    "$work/np1/mnist-s1" "$work/np2/mnist-s1" "$work/np3/mnist-s1"
