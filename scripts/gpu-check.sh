#!/usr/bin/env bash
# GPU check, for a machine with an NVIDIA GPU (none exists where this project is developed, so this script
# is the native GPU path's acceptance test; keep it in step with scripts/bench.ts and the CLI):
#
#   npm install                    # installs the optional @tensorflow/tfjs-node-gpu when CUDA is present
#   npm run models                 # VGG19 weights and the built-in paintings
#   scripts/gpu-check.sh [photo.jpg] [painting.jpg]
#
# It checks the driver and the native GPU backend, runs the step benchmark at 512 and 1024 px on
# tensorflow-gpu, then paints one image with the CLI, and prints the figures.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== GPU"
if ! nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; then
  echo "nvidia-smi failed: no NVIDIA GPU or driver on this machine" >&2
  exit 1
fi

echo "== native GPU backend"
if ! node -e 'require.resolve("@tensorflow/tfjs-node-gpu")' 2>/dev/null; then
  echo "@tensorflow/tfjs-node-gpu is not installed. It needs CUDA 11.2 and cuDNN 8.1; then run:" >&2
  echo "  npm install @tensorflow/tfjs-node-gpu@4.22.0" >&2
  exit 1
fi
npm run build --silent
# Forcing the backend makes any load failure (CUDA/cuDNN libraries, driver) an error, not a fallback.
export STYLIZE_BACKEND=tensorflow-gpu
node --input-type=module -e '
  const { initBackend } = await import("./dist/src/engine/backend.js");
  const tf = await import("@tensorflow/tfjs-core");
  const choice = await initBackend({ forced: "tensorflow-gpu" });
  const x = tf.randomNormal([1, 256, 256, 64]);
  const k = tf.randomNormal([3, 3, 64, 64]);
  tf.conv2d(x, k, 1, "same").dataSync();
  console.log(`backend ${choice.name} (tf ${tf.getBackend()}) runs a conv2d`);
'

echo "== step benchmark (tensorflow-gpu)"
# GPU_PEAK_GFLOPS: the card's fp32 peak from its spec sheet, for the "% peak" column (0 = leave it out).
node dist/scripts/bench.js --sizes 512,1024 --steps 5 --baseline none --peak "${GPU_PEAK_GFLOPS:-0}"

echo "== stylize CLI"
photo="${1:-}"
painting="${2:-models/weights/paintings/starry-night.jpg}"
if [ -z "$photo" ]; then
  photo="$(mktemp -d)/photo.png"
  # A synthetic photo, so that the check needs nothing but the downloaded models.
  node -e '
    const sharp = require("sharp");
    const w = 768, h = 512, px = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      px[i] = 128 + 100 * Math.sin(x / 40); px[i + 1] = 128 + 100 * Math.cos(y / 30); px[i + 2] = (x + y) % 256;
    }
    sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(process.argv[1]);
  ' "$photo"
fi
out="$(mktemp -d)/gpu-check.png"
time node bin/stylize.js --content "$photo" --style "$painting" --size 768 --preset balanced --seed 1 --out "$out"
echo "wrote $out"
