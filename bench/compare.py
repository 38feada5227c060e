#!/usr/bin/env python3
"""Side-by-side epoch timing of collapse and its PyTorch reference on the same data.

Each round runs, for every model, collapse's epoch program (build/bench/collapse-bench) and
then bench/torch_reference.py, each as a fresh process training for --epochs epochs with the
same batch size and thread count. Alternating within one run keeps both sides under the
same machine load, which matters on shared nodes.

Reported per model:
  - median seconds per epoch over all rounds, leaving out each process's first epoch
    (allocator growth, page faults and lazy initialization), with the min and max;
  - the ratio of the two medians, collapse / PyTorch (below 1 means collapse is faster),
    and the median over rounds of each round's own ratio, which pairs runs made minutes
    apart and so cancels slow drifts in machine load;
  - achieved GFLOP/s = analytic FLOPs per epoch / median seconds, and that rate as a
    percentage of the single-thread sgemm rate that collapse-sgemm-rate measures in the
    same run for a 2048^3 product;
  - the sgemm-only time per epoch: the model's sgemm calls at the rates measured for their
    exact shapes (for the CNN, the faster of collapse-sgemm-rate's two im2col layouts),
    the floor for a trainer built on sgemm;
  - peak memory: the max resident set size of each child process (os.wait4 rusage);
  - the last epoch's mean loss per sample, as a check that both sides train the same model.

FLOPs per epoch are counted analytically, per training sample, and multiplied by the
number of training samples:
  dense layer in -> out:        forward 2*in*out, backward 4*in*out (weight and input grads)
  3x3 convolution, im2col:      the dense formula with in = 9*C_in and out = C_out, per
                                output pixel (H*W per sample, padding 1 keeps H and W)
  first layer of each model:    backward 2*in*out, because no input gradient is needed
Activations, pooling, the loss and Adam are left out. They are elementwise work; Adam's
roughly 10 operations per parameter per step would add an estimated 1.5% to the VAE's and
MLP's count and under 0.1% to the CNN's.

Usage (with an interpreter that has torch, e.g. Debian's /usr/bin/python3):
    /usr/bin/python3 bench/compare.py --build-dir build --rounds 3 --epochs 3
"""

import argparse
import gzip
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
TORCH_REFERENCE = BENCH_DIR / "torch_reference.py"
MODELS = ("vae", "mlp", "cnn")
EPOCH_LINE = re.compile(r"^epoch (\d+) seconds (\S+) loss (\S+)$")


class HarnessError(Exception):
    """A failure that ends the run: a missing program or data, or a child that failed."""


# ---------------------------------------------------------------- FLOP counts

def dense_flop(n_in, n_out, first):
    """FLOPs of one dense layer per training sample: forward plus backward."""
    backward = 2 if first else 4
    return (2 + backward) * n_in * n_out


def conv3x3_flop(c_in, c_out, side, first):
    """FLOPs of one padded 3x3 convolution per sample, counted as its im2col product."""
    return side * side * dense_flop(9 * c_in, c_out, first)


def flop_per_sample(model, n_classes):
    """Analytic training FLOPs per sample of the default architectures."""
    if model == "vae":
        layers = [(784, 128), (128, 128), (128, 20), (128, 20), (20, 128), (128, 128), (128, 784)]
        return sum(dense_flop(i, o, n == 0) for n, (i, o) in enumerate(layers))
    if model == "mlp":
        layers = [(784, 256), (256, 256), (256, n_classes)]
        return sum(dense_flop(i, o, n == 0) for n, (i, o) in enumerate(layers))
    convs = [(1, 32, 28), (32, 64, 14), (64, 128, 7)]
    dense = [(128 * 3 * 3, 256), (256, 128), (128, n_classes)]
    return (sum(conv3x3_flop(ci, co, side, n == 0) for n, (ci, co, side) in enumerate(convs))
            + sum(dense_flop(i, o, False) for i, o in dense))


# ---------------------------------------------------------------- data and machine

def find_idx(folder, stem):
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise HarnessError(f"{folder / stem}[.gz] not found: pass --data with the folder holding "
                       f"the MNIST IDX files")


def read_labels(path):
    """Return the label bytes of an IDX1 file (raw or gzip, detected by content)."""
    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
    with (gzip.open if gzipped else open)(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8 or int.from_bytes(raw[:4], "big") != 0x801:
        raise HarnessError(f"{path}: not an IDX label file (invalid magic number)")
    count = int.from_bytes(raw[4:8], "big")
    if len(raw) - 8 != count or count == 0:
        raise HarnessError(f"{path}: the header declares {count} labels but the file contains "
                           f"{len(raw) - 8}")
    return raw[8:]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def torch_version(python):
    try:
        out = subprocess.run([python, "-c", "import torch; print(torch.__version__)"],
                             capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        raise HarnessError(f"{python} cannot import torch ({e}); pass --python with an "
                           f"interpreter that has it, e.g. /usr/bin/python3 with python3-torch")
    return out.stdout.strip()


# ---------------------------------------------------------------- child processes

class ChildResult:
    """Command, exit status, decoded output and peak RSS of one finished child process."""

    def __init__(self, cmd, returncode, stdout, stderr, max_rss_bytes):
        self.cmd = cmd
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.max_rss_bytes = max_rss_bytes

    def failure(self, program):
        """Build the error for a failed child, with the last lines of its stderr."""
        tail = "\n".join(self.stderr.strip().splitlines()[-8:])
        return HarnessError(f"{program} failed with exit status {self.returncode}: "
                            f"{' '.join(map(str, self.cmd))}\n{tail}")


def run_child(cmd):
    """Run a command to completion and return its output and its own peak RSS.

    os.wait4 returns the rusage of that one child, unlike RUSAGE_CHILDREN, whose ru_maxrss
    is the maximum over every child reaped so far.
    """
    with tempfile.TemporaryFile() as err_file:
        try:
            proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=err_file)
        except OSError as e:
            raise HarnessError(f"failed to start {cmd[0]}: {e}") from e
        stdout = proc.stdout.read()
        proc.stdout.close()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err_file.seek(0)
        stderr = err_file.read()
    # ru_maxrss is in KiB on Linux.
    return ChildResult(cmd, proc.returncode, stdout.decode(errors="replace"),
                       stderr.decode(errors="replace"), usage.ru_maxrss * 1024)


def run_ours(args, bench, model):
    """Run collapse-bench once and return (epochs, child result).

    epochs is None when the program failed before printing any epoch line, which is how a
    build without a model rejects it.
    """
    cmd = [bench, "--model", model, "--epochs", args.epochs, "--data", args.data,
           "--batch", args.batch, "--threads", args.threads]
    result = run_child(cmd)
    epochs = []
    for line in result.stdout.splitlines():
        match = EPOCH_LINE.match(line.strip())
        if match:
            epochs.append({"epoch": int(match[1]), "seconds": float(match[2]),
                           "loss": float(match[3])})
    if result.returncode != 0 and not epochs:
        return None, result
    if result.returncode != 0:
        raise result.failure(f"collapse-bench --model {model}")
    if [e["epoch"] for e in epochs] != list(range(1, args.epochs + 1)):
        raise HarnessError(f"collapse-bench --model {model} printed epochs "
                           f"{[e['epoch'] for e in epochs]}, expected 1..{args.epochs} as lines "
                           f"'epoch <k> seconds <s> loss <l>'")
    return epochs, result


def run_torch(args, model):
    cmd = [args.python, TORCH_REFERENCE, "--model", model, "--epochs", args.epochs,
           "--data", args.data, "--batch", args.batch, "--threads", args.threads, "--json"]
    result = run_child(cmd)
    if result.returncode != 0:
        raise result.failure(f"torch_reference.py --model {model}")
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError as e:
        raise HarnessError(f"torch_reference.py --model {model} printed invalid JSON: {e}")
    return report["epochs"], result


def run_sgemm_rate(args, sgemm, models, n_train, n_classes):
    cmd = [sgemm, "--json", "--threads", args.threads, "--batch", args.batch,
           "--samples", n_train, "--classes", n_classes, "--models", ",".join(models)]
    result = run_child(cmd)
    if result.returncode != 0:
        raise result.failure("collapse-sgemm-rate")
    return json.loads(result.stdout)


# ---------------------------------------------------------------- statistics and report

def timed_seconds(runs):
    """Epoch seconds of all runs, leaving out each run's first epoch."""
    return [e["seconds"] for run in runs for e in run[1:]]


def summarize(model, ours_runs, torch_runs, ours_rss, torch_rss, flop_per_epoch, sgemm):
    ours_s, torch_s = timed_seconds(ours_runs), timed_seconds(torch_runs)
    ours_median, torch_median = statistics.median(ours_s), statistics.median(torch_s)
    round_ratios = [statistics.median(e["seconds"] for e in ours[1:])
                    / statistics.median(e["seconds"] for e in theirs[1:])
                    for ours, theirs in zip(ours_runs, torch_runs)]
    floors = [m["epoch_sgemm_seconds"] for m in sgemm["models"] if m["model"].startswith(model)]
    peak = sgemm["square"]["median_gflops"]
    ours_gflops = flop_per_epoch / ours_median * 1e-9
    torch_gflops = flop_per_epoch / torch_median * 1e-9
    return {
        "model": model,
        "epochs_timed": [len(ours_s), len(torch_s)],
        "ours_median_s": ours_median, "ours_min_s": min(ours_s), "ours_max_s": max(ours_s),
        "torch_median_s": torch_median, "torch_min_s": min(torch_s), "torch_max_s": max(torch_s),
        "ratio": ours_median / torch_median,
        "round_ratio_median": statistics.median(round_ratios),
        "round_ratio_min": min(round_ratios), "round_ratio_max": max(round_ratios),
        "gflop_per_epoch": flop_per_epoch * 1e-9,
        "sgemm_only_s": min(floors) if floors else None,
        "ours_gflops": ours_gflops, "torch_gflops": torch_gflops,
        "ours_peak_percent": 100 * ours_gflops / peak,
        "torch_peak_percent": 100 * torch_gflops / peak,
        "ours_max_rss_mib": max(ours_rss) / 2**20, "torch_max_rss_mib": max(torch_rss) / 2**20,
        "ours_last_loss": statistics.median(run[-1]["loss"] for run in ours_runs),
        "torch_last_loss": statistics.median(run[-1]["loss"] for run in torch_runs),
        "ours_epochs": ours_runs, "torch_epochs": torch_runs,
    }


def print_report(machine, rows, skipped, sgemm, args):
    print("## Machine\n")
    for key, value in machine.items():
        print(f"- {key}: {value}")
    print(f"- run: {args.rounds} rounds x {args.epochs} epochs per process, batch {args.batch}, "
          f"{args.threads} thread(s) per side, data {args.data}")
    print(f"- sgemm {sgemm['square']['size']}^3, one call repeated: median "
          f"{sgemm['square']['median_gflops']:.1f} GFLOP/s, best "
          f"{sgemm['square']['best_gflops']:.1f} GFLOP/s")

    print("\n## Seconds per epoch (median over rounds, first epoch of each process left out)\n")
    print("| model | epochs timed (collapse/PyTorch) | collapse s (min-max) | PyTorch s (min-max) "
          "| collapse/PyTorch | per-round ratio (min-max) | sgemm-only s |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        floor = f"{r['sgemm_only_s']:.2f}" if r["sgemm_only_s"] is not None else "n/a"
        print(f"| {r['model']} | {r['epochs_timed'][0]}/{r['epochs_timed'][1]} "
              f"| {r['ours_median_s']:.3f} ({r['ours_min_s']:.3f}-{r['ours_max_s']:.3f}) "
              f"| {r['torch_median_s']:.3f} ({r['torch_min_s']:.3f}-{r['torch_max_s']:.3f}) "
              f"| {r['ratio']:.2f} "
              f"| {r['round_ratio_median']:.2f} ({r['round_ratio_min']:.2f}-{r['round_ratio_max']:.2f}) "
              f"| {floor} |")

    print("\n## Throughput, memory and loss\n")
    print("| model | GFLOP/epoch | collapse GFLOP/s (% sgemm) | PyTorch GFLOP/s (% sgemm) "
          "| collapse max RSS MiB | PyTorch max RSS MiB | last-epoch loss collapse / PyTorch |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['gflop_per_epoch']:.1f} "
              f"| {r['ours_gflops']:.1f} ({r['ours_peak_percent']:.0f}%) "
              f"| {r['torch_gflops']:.1f} ({r['torch_peak_percent']:.0f}%) "
              f"| {r['ours_max_rss_mib']:.0f} | {r['torch_max_rss_mib']:.0f} "
              f"| {r['ours_last_loss']:.4g} / {r['torch_last_loss']:.4g} |")
    for model, reason in skipped.items():
        print(f"\n{model}: not compared, because {reason}")


# ---------------------------------------------------------------- command line

def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer {text!r}")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} is not positive")
    return value


def model_list(text):
    models = [m for m in text.split(",") if m]
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        raise argparse.ArgumentTypeError(f"invalid model list {text!r}: use a comma-separated "
                                         f"subset of {','.join(MODELS)}")
    return list(dict.fromkeys(models))


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Time collapse and its PyTorch reference side by side, one epoch program "
                    "after the other in each round.")
    p.add_argument("--rounds", type=positive_int, default=3,
                   help="rounds; each runs both programs once per model (default 3)")
    p.add_argument("--epochs", type=positive_int, default=3,
                   help="epochs per process, at least 2 because the first is left out (default 3)")
    p.add_argument("--build-dir", type=Path, default=REPO_ROOT / "build",
                   help="CMake build folder with bench/collapse-bench and "
                        "bench/collapse-sgemm-rate (default build)")
    p.add_argument("--models", type=model_list, default=list(MODELS),
                   help="comma-separated subset of vae,mlp,cnn (default all three)")
    p.add_argument("--data", type=Path, default=REPO_ROOT / "data" / "mnist",
                   help="folder with the MNIST IDX files (default data/mnist)")
    p.add_argument("--batch", type=positive_int, default=128, help="batch size (default 128)")
    p.add_argument("--threads", type=positive_int, default=1,
                   help="BLAS/torch threads per process (default 1)")
    p.add_argument("--python", default=sys.executable,
                   help="interpreter that runs torch_reference.py (default: this one)")
    p.add_argument("--json", type=Path, metavar="FILE",
                   help="also write every epoch time and the summary to FILE as JSON")
    args = p.parse_args(argv)
    if args.epochs < 2:
        p.error("--epochs must be at least 2: the first epoch of each process is not timed")
    return args


def main(argv):
    args = parse_args(argv)
    bench = args.build_dir / "bench" / "collapse-bench"
    sgemm = args.build_dir / "bench" / "collapse-sgemm-rate"
    if not os.access(bench, os.X_OK):
        print(f"compare: collapse-bench not built: {bench} not found; build it with "
              f"cmake --build {args.build_dir} --target collapse-bench", file=sys.stderr)
        return 2
    if not os.access(sgemm, os.X_OK):
        print(f"compare: collapse-sgemm-rate not built: {sgemm} not found; build it with "
              f"cmake --build {args.build_dir} --target collapse-sgemm-rate", file=sys.stderr)
        return 2

    labels = read_labels(find_idx(args.data, "train-labels-idx1-ubyte"))
    n_train, n_classes = len(labels), max(labels) + 1
    find_idx(args.data, "train-images-idx3-ubyte")

    machine = {
        "CPU": cpu_model(),
        "logical CPUs": f"{os.cpu_count()}, {len(os.sched_getaffinity(0))} usable by this process",
        "torch": torch_version(args.python),
    }
    print(f"compare: measuring sgemm rates with {sgemm}", file=sys.stderr, flush=True)
    rates = run_sgemm_rate(args, sgemm, args.models, n_train, n_classes)
    machine["BLAS"] = f"{rates['blas_config']} (core {rates['blas_core']})"
    blas_env = {k: v for k, v in os.environ.items()
                if k.startswith("OPENBLAS_") or k in ("OMP_NUM_THREADS", "GOTO_NUM_THREADS")}
    machine["BLAS environment"] = ", ".join(f"{k}={v}" for k, v in sorted(blas_env.items())) or "none set"

    runs = {m: {"ours": [], "torch": [], "ours_rss": [], "torch_rss": []} for m in args.models}
    skipped = {}
    for round_index in range(1, args.rounds + 1):
        for model in args.models:
            if model in skipped:
                continue
            ours, result = run_ours(args, bench, model)
            if ours is None:
                if model == "cnn" and round_index == 1:
                    reason = (result.stderr.strip().splitlines() or ["no message"])[-1]
                    skipped[model] = f"collapse-bench exited with status {result.returncode}: {reason}"
                    print(f"compare: skipping cnn: {skipped[model]}", file=sys.stderr)
                    continue
                raise result.failure(f"collapse-bench --model {model}")
            runs[model]["ours"].append(ours)
            runs[model]["ours_rss"].append(result.max_rss_bytes)

            theirs, result = run_torch(args, model)
            runs[model]["torch"].append(theirs)
            runs[model]["torch_rss"].append(result.max_rss_bytes)
            print(f"compare: round {round_index}/{args.rounds} {model}: collapse "
                  f"{statistics.median(e['seconds'] for e in ours[1:]):.3f} s/epoch, PyTorch "
                  f"{statistics.median(e['seconds'] for e in theirs[1:]):.3f} s/epoch",
                  file=sys.stderr, flush=True)

    rows = [summarize(m, runs[m]["ours"], runs[m]["torch"], runs[m]["ours_rss"],
                      runs[m]["torch_rss"], n_train * flop_per_sample(m, n_classes), rates)
            for m in args.models if m not in skipped]
    print_report(machine, rows, skipped, rates, args)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "sgemm": rates, "models": rows,
                                         "skipped": skipped}, indent=1))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except HarnessError as e:
        print(f"compare: error: {e}", file=sys.stderr)
        sys.exit(1)
