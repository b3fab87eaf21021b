#!/usr/bin/python3
"""PyTorch reference for the Stylize benchmark: one Gatys et al. optimisation step.

The same step as the engine's: VGG19 conv1_1 .. conv5_1 (3x3 'same' convs, ReLU, 2x2 average pooling)
with random weights of the real shapes, frozen; content loss (MSE) at relu4_2; style loss at
relu1_1, relu2_1, relu3_1, relu4_1, relu5_1 (Gram matrix normalised by C*H*W, squared distance to fixed
targets); gradient with respect to the input image only; one Adam update of the image.

Prints one JSON line per size:
  {"size", "msPerStep", "msMin", "steps", "gflop", "gflops", "peakRssMb", "threads", "torchVersion", "blas"}

FLOPs are counted analytically: 2*H*W*Cin*Cout*9 per conv up to conv5_1, times 2 for forward + input
gradient (23.7 GFLOP at 128 px, 94.7 at 256 px); pooling, ReLU, Gram and Adam are not counted.

Each size runs in a fresh child process so that peakRssMb (ru_maxrss) belongs to that size alone.
The BLAS is chosen per child with LD_LIBRARY_PATH, independent of the system-wide alternative:
  --blas openblas   /usr/lib/x86_64-linux-gnu/openblas-pthread   (Debian package libopenblas0-pthread)
  --blas reference  /usr/lib/x86_64-linux-gnu/blas               (Debian package libblas3)
  --blas system     whatever `update-alternatives` selects for libblas.so.3-x86_64-linux-gnu
  --blas both       openblas and reference, alternating per size (for ratios on a noisy machine)

Needs Debian's python3-torch, so run it with /usr/bin/python3 (not a pyenv/venv python):
  /usr/bin/python3 scripts/bench/torch_step.py --sizes 128,256 --steps 5 --blas both
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

BLAS_DIRS = {
    "openblas": "/usr/lib/x86_64-linux-gnu/openblas-pthread",
    "reference": "/usr/lib/x86_64-linux-gnu/blas",
}

# (in, out) channels of VGG19 conv1_1 .. conv5_1, and after which convs a 2x2 pool follows.
CONVS = [
    ("conv1_1", 3, 64), ("conv1_2", 64, 64),
    ("conv2_1", 64, 128), ("conv2_2", 128, 128),
    ("conv3_1", 128, 256), ("conv3_2", 256, 256), ("conv3_3", 256, 256), ("conv3_4", 256, 256),
    ("conv4_1", 256, 512), ("conv4_2", 512, 512), ("conv4_3", 512, 512), ("conv4_4", 512, 512),
    ("conv5_1", 512, 512),
]
POOL_AFTER = {"conv1_2", "conv2_2", "conv3_4", "conv4_4"}
CONTENT_LAYER = "conv4_2"
STYLE_LAYERS = ["conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"]


def step_gflop(size: int) -> float:
    """Forward conv FLOPs up to conv5_1, x2 for forward + input gradient."""
    flop, hw = 0, size
    for name, cin, cout in CONVS:
        flop += 2 * hw * hw * cin * cout * 9
        if name in POOL_AFTER:
            hw //= 2
    return 2 * flop / 1e9


def loaded_blas() -> str:
    """Which libblas.so.3 the dynamic loader mapped (libtorch also links libopenblas.so.0 for LAPACK)."""
    with open("/proc/self/maps", encoding="utf-8") as maps:
        libs = {os.path.realpath(line.split()[-1]) for line in maps if "libblas.so.3" in line}
    if any("openblas" in lib for lib in libs):
        return "openblas"
    if any("/blas/libblas" in lib for lib in libs):
        return "reference"
    return ",".join(sorted(libs)) or "none"


def run_child(size: int, warmup: int, steps: int, threads: int) -> dict:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    weights = []
    for _name, cin, cout in CONVS:
        std = (2.0 / (9 * cin)) ** 0.5  # He init keeps activations in range through 13 layers
        w = torch.randn(cout, cin, 3, 3) * std
        b = torch.randn(cout) * 0.01
        weights.append((w, b))  # requires_grad=False: weights are frozen

    def features(x):
        out = {}
        for (name, _cin, _cout), (w, b) in zip(CONVS, weights):
            x = F.relu(F.conv2d(x, w, b, padding=1))
            out[name] = x
            if name in POOL_AFTER:
                x = F.avg_pool2d(x, 2)
        return out

    def gram(f):
        _, c, h, w = f.shape
        m = f.reshape(c, h * w)
        return (m @ m.t()) / (c * h * w)

    with torch.no_grad():
        content = features(torch.rand(1, 3, size, size))[CONTENT_LAYER]
        style_feats = features(torch.rand(1, 3, size, size))
        style_targets = [gram(style_feats[n]) for n in STYLE_LAYERS]

    image = torch.rand(1, 3, size, size, requires_grad=True)
    opt = torch.optim.Adam([image], lr=0.02)
    content_weight, style_weight = 1.0, 1e3

    def step() -> float:
        opt.zero_grad(set_to_none=True)
        feats = features(image)
        loss = content_weight * F.mse_loss(feats[CONTENT_LAYER], content)
        for name, target in zip(STYLE_LAYERS, style_targets):
            loss = loss + style_weight * ((gram(feats[name]) - target) ** 2).sum()
        loss.backward()
        opt.step()
        return float(loss.detach())

    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        loss = step()
        times.append((time.perf_counter() - t0) * 1000)
    if not loss == loss:  # NaN check
        raise RuntimeError("loss is NaN")
    times.sort()
    median = times[len(times) // 2] if len(times) % 2 else (times[len(times) // 2 - 1] + times[len(times) // 2]) / 2
    gflop = step_gflop(size)
    return {
        "size": size,
        "msPerStep": round(median, 1),
        "msMin": round(times[0], 1),
        "steps": steps,
        "gflop": round(gflop, 2),
        "gflops": round(gflop / (median / 1000), 1),
        "peakRssMb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "threads": threads,
        "torchVersion": torch.__version__,
        "blas": loaded_blas(),
        "mkldnn": bool(torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="128,256,512", help="comma-separated square sizes in px")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--blas", default="openblas", choices=["openblas", "reference", "system", "both"])
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]

    if args.child:
        print(json.dumps(run_child(sizes[0], args.warmup, args.steps, args.threads)), flush=True)
        return

    blases = ["openblas", "reference"] if args.blas == "both" else [args.blas]
    failed = False
    for size in sizes:
        for blas in blases:
            env = dict(os.environ)
            env["OPENBLAS_NUM_THREADS"] = str(args.threads)
            env["OMP_NUM_THREADS"] = str(args.threads)
            if blas in BLAS_DIRS:
                if not os.path.exists(os.path.join(BLAS_DIRS[blas], "libblas.so.3")):
                    pkg = "libopenblas0-pthread" if blas == "openblas" else "libblas3"
                    print(json.dumps({"size": size, "blas": blas, "error": f"apt-get install {pkg}"}), flush=True)
                    failed = True
                    continue
                env["LD_LIBRARY_PATH"] = BLAS_DIRS[blas] + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
            cmd = [sys.executable, os.path.abspath(__file__), "--child", "--sizes", str(size),
                   "--warmup", str(args.warmup), "--steps", str(args.steps), "--threads", str(args.threads)]
            proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True)
            sys.stdout.write(proc.stdout)
            sys.stdout.flush()
            failed |= proc.returncode != 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
