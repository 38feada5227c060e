#!/usr/bin/env bash
# Malformed inputs through the real command line: each case names its input, the exit code
# and a fragment of the message it must print. Every case runs against an output folder that
# already contains a finished run. Afterwards that run's files must be unchanged, and no new
# file may exist under a final name.
set -euo pipefail
collapse=$1
work=$2
source "$COLLAPSE_SOURCE_DIR/tests/lib.sh"
rm -rf "$work"
mkdir -p "$work/data"
cd "$work"
mnist=$COLLAPSE_MNIST_DIR
failures=0
count=0

# A tiny valid configuration on a 300-image slice of MNIST, given as kind "idx".
head -c $((16 + 300 * 784)) "$mnist/train-images-idx3-ubyte" > data/img
head -c $((8 + 300)) "$mnist/train-labels-idx1-ubyte" > data/lab
# fix the item counts in the headers (big-endian 300 = 0x012c)
printf '\x00\x00\x01\x2c' | dd of=data/img bs=1 seek=4 conv=notrunc status=none
printf '\x00\x00\x01\x2c' | dd of=data/lab bs=1 seek=4 conv=notrunc status=none
cat > good.cfg <<CFG
generations = 1; samples = 200; batch_size = 64; seeds = [1]; sample_grid = 0;
datasets = ( { name = "tiny"; kind = "idx"; dir = "$work/data"; train_images = "img"; train_labels = "lab";
               n_classes = 10; holdout = 100; } );
vae = { epochs = 1; }; classifier = { epochs = 1; };
CFG
"$collapse" run good.cfg --output prev 2> prev.log || { cat prev.log; exit 1; }
( cd prev && find . -type f | sort | xargs sha256sum ) > prev.sha256

# expect CODE FRAGMENT ARGS...: runs collapse with ARGS against a copy-free output "prev".
expect() {
    local code=$1 fragment=$2 status=0
    shift 2
    count=$((count + 1))
    "$collapse" "$@" > out.log 2>&1 || status=$?
    local ok=1
    [ "$status" = "$code" ] || ok=0
    grep -qF -- "$fragment" out.log || ok=0
    if ! (cd prev && sha256sum --quiet -c ../prev.sha256 > /dev/null 2>&1) ||
       [ -n "$(find prev -name '*.tmp' -o -name 'gen-*.h5' -newer prev.sha256)" ]; then
        ok=0
        echo "  earlier results were altered"
    fi
    if ((ok)); then
        echo "ok $count: exit $status, '$fragment'"
    else
        failures=$((failures + 1))
        echo "FAILED $count: expected exit $code and '$fragment', got exit $status:"
        sed 's/^/    /' out.log | tail -5
    fi
}

# with_data FILE CONTENT-COMMAND: writes a bad training image file and a config that uses it.
bad_images() {
    cp data/lab data/bad-lab
    sed "s|train_images = \"img\"|train_images = \"$1\"|" good.cfg > bad.cfg
}
py() { "$PYTHON" -c "$1"; }

echo "== data files"
: > data/empty; bad_images empty
expect 1 "empty" run bad.cfg --output prev
head -c 10 data/img > data/short; bad_images short
expect 1 "short header" run bad.cfg --output prev
{ printf '\x00\x00\x08\x04'; tail -c +5 data/img; } > data/magic; bad_images magic
expect 1 "magic" run bad.cfg --output prev
printf '<!DOCTYPE html><html><body>404 Not Found</body></html>\n' > data/page.html; bad_images page.html
expect 1 "HTML" run bad.cfg --output prev
py "import struct,sys; open('data/small','wb').write(struct.pack('>IIII',0x803,300,10,10)+bytes(300*100))"; bad_images small
expect 1 "images of 10 x 10 pixels" run bad.cfg --output prev
head -c $((16 + 200 * 784)) data/img > data/cut; bad_images cut
expect 1 "data/cut" run bad.cfg --output prev
gzip -c data/img | head -c 20000 > data/cut.gz; bad_images cut.gz
expect 1 "cut.gz" run bad.cfg --output prev
py "import zipfile; z=zipfile.ZipFile('data/a.zip','w'); z.write('data/img','gzip/img'); z.close()"
head -c 5000 data/a.zip > data/cut.zip; bad_images "cut.zip::gzip/img"
expect 1 "cut.zip" run bad.cfg --output prev
bad_images "a.zip::gzip/nothing"
expect 1 "gzip/nothing" run bad.cfg --output prev
bad_images missing-file
expect 1 "missing-file" run bad.cfg --output prev
py "d=bytearray(open('data/lab','rb').read()); d[8+7]=12; open('data/lab12','wb').write(d)"
sed 's|train_labels = "lab"|train_labels = "lab12"|' good.cfg > bad.cfg
expect 1 "12" run bad.cfg --output prev
head -c $((8 + 299)) data/lab > data/lab299
printf '\x00\x00\x01\x2b' | dd of=data/lab299 bs=1 seek=4 conv=notrunc status=none
sed 's|train_labels = "lab"|train_labels = "lab299"|' good.cfg > bad.cfg
expect 1 "299" run bad.cfg --output prev
mkdir -p tampered && cp "$mnist"/* tampered/ && printf 'x' | dd of=tampered/t10k-labels-idx1-ubyte bs=1 seek=100 conv=notrunc status=none
sed "s|kind = \"idx\"; dir = \"$work/data\"; train_images = \"img\"; train_labels = \"lab\";|kind = \"mnist\"; dir = \"$work/tampered\"; max_train = 300;|; s|holdout = 100;||; s|n_classes = 10;||" good.cfg > bad.cfg
expect 1 "t10k-labels-idx1-ubyte" run bad.cfg --output prev

echo "== configuration"
expect 1 "cannot read configuration file" run nonexistent.cfg --output prev
printf 'generations = = 1;\n' > syntax.cfg
expect 1 "syntax.cfg:1: syntax error" run syntax.cfg --output prev
{ cat good.cfg; echo 'vae_epochs = 2;'; } > bad.cfg
expect 1 "bad.cfg:5: unknown key 'vae_epochs'" run bad.cfg --output prev
expect 1 "generations has the wrong type" run good.cfg --output prev --set 'generations="two"'
expect 1 "batch_size = -4 is out of range" run good.cfg --output prev --set batch_size=-4
expect 1 "generations = 0 is out of range" run good.cfg --output prev --set generations=0
expect 1 "batch_size 1000 is larger than the 200 training images" run good.cfg --output prev --set batch_size=1000
expect 1 "classifier.type = \"rnn\" is not valid" run good.cfg --output prev --set 'classifier.type="rnn"'
expect 1 "seeds has 0 elements" run good.cfg --output prev --set 'seeds=[]'
expect 1 "vae.hidden.[0] = 0 is out of range" run good.cfg --output prev --set 'vae.hidden=[0]'
expect 1 "unknown key 'vae.depth'" run good.cfg --output prev --set vae.depth=3
expect 1 "ranks_per_member = 2 does not divide the 1 MPI ranks" run good.cfg --output prev --set ranks_per_member=2

echo "== command line"
expect 1 "usage:"
expect 1 "unknown command 'train'" train good.cfg
expect 1 "missing CONFIG" run
expect 1 "--member 5 is out of range" run good.cfg --output prev --member 5
expect 1 "invalid --member 'two'" run good.cfg --output prev --member two
expect 1 "missing value" run good.cfg --output
expect 1 "unexpected argument '--fast'" run good.cfg --fast
expect 1 "invalid --set 'vae.epochs'" run good.cfg --output prev --set vae.epochs

echo "== output folder"
touch afile
expect 1 "cannot create output folder afile/out" run good.cfg --output afile/out

echo "== checkpoints"
# damaged checkpoints are set aside and recomputed; the set-aside copy keeps the bytes
damaged() {
    rm -rf dmg && cp -r prev dmg && "$PYTHON" -c "$1"
}
count=$((count + 1))
damaged "import os; f='dmg/tiny-s1/gen-000.h5'; os.truncate(f, os.path.getsize(f)//2)"
"$collapse" run good.cfg --output dmg 2> dmg.log && grep -q "set aside dmg/tiny-s1/gen-000.h5" dmg.log &&
    test -f dmg/tiny-s1/gen-000.h5.invalid && echo "ok $count: truncated checkpoint set aside" ||
    { failures=$((failures + 1)); echo "FAILED $count: truncated checkpoint"; tail -3 dmg.log; }
count=$((count + 1))
damaged "import h5py; f=h5py.File('dmg/tiny-s1/gen-000.h5','a'); del f['generated/labels']; f.close()"
"$collapse" run good.cfg --output dmg 2> dmg.log && grep -q "/generated/labels is missing" dmg.log &&
    echo "ok $count: checkpoint without a data set set aside" ||
    { failures=$((failures + 1)); echo "FAILED $count: missing data set"; tail -3 dmg.log; }
count=$((count + 1))
damaged "import h5py, numpy as np; f=h5py.File('dmg/tiny-s1/gen-000.h5','a'); d=f['vae/params/out.bias']; v=d[()]; v[0]=np.nan; d[...]=v; f.close()"
"$collapse" run good.cfg --output dmg 2> dmg.log && grep -q "contains NaN or Inf" dmg.log &&
    echo "ok $count: checkpoint with NaN weights set aside" ||
    { failures=$((failures + 1)); echo "FAILED $count: NaN weights"; tail -3 dmg.log; }
expect 1 "written with other settings" run good.cfg --output prev --set vae.latent=5
cp data/img data/img.orig
printf '\xff' | dd of=data/img bs=1 seek=$((16 + 100)) conv=notrunc status=none
expect 1 "written for different data" run good.cfg --output prev
cp data/img.orig data/img

echo "$((count - failures)) passed, $failures failed"
[ "$failures" = 0 ]
