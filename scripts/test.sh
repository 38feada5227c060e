#!/usr/bin/env bash
# Sets the machine up (scripts/setup.sh) and runs every test: unit, data, MPI, end-to-end on
# real MNIST/EMNIST/Fashion-MNIST, analysis and Slurm (a local cluster is started and stopped).
# Extra arguments go to ctest, e.g. scripts/test.sh -L unit.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$repo/scripts/setup.sh"
cd "$repo"
ctest --test-dir build --output-on-failure --timeout 1200 "$@"
