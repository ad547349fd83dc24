#!/usr/bin/env bash
# Everything that needs a CUDA GPU, in one go (a lent GPU's time is short), with logs in DIR:
#   1. the kernels' tests on CUDA tensors (tests/kernels picks CUDA when it is there);
#   2. the kernel benchmark, which rewrites the Kernels section of docs/performance.md;
#   3. whole training iterations with the Triton kernels against their PyTorch references
#      (`gandsl bench --kernels auto|ref`): the penalty in WGAN-GP and StarGAN at 128×128,
#      AdaIN in StyleGAN at its 64×64 stage.
# Usage: bash benchmarks/on_gpu.sh [DIR]      (default DIR: gpu-results)
set -uo pipefail
out=${1:-gpu-results}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}  # on some GPU images `python3` is the only name
status=0

echo "== kernel tests on CUDA"
"$PY" -m pytest tests/kernels -q -x -p no:cacheprovider 2>&1 | tee "$out/kernel-tests.log" \
  || status=1

echo "== kernel benchmark"
"$PY" benchmarks/kernels.py --write docs/performance.md 2>&1 | tee "$out/kernels.log" \
  || status=1
cp docs/performance.md "$out/performance.md"

echo "== whole iterations: kernels against references"
# StyleGAN grows from 8×8 (level 1), each level `stage` iterations stable and `stage` fading
# in: with stage=100 it is fully grown at 64×64 (level 4) from iteration 600.
for kernels in auto ref; do
  "$PY" -m gandsl bench specs/wgan_gp.gan --data shapes --batch 64 --kernels "$kernels" \
    --device cuda 2>&1 | tee -a "$out/bench.log" || status=1
  "$PY" -m gandsl bench specs/stargan.gan --data shapes --batch 16 --kernels "$kernels" \
    --device cuda 2>&1 | tee -a "$out/bench.log" || status=1
  "$PY" -m gandsl bench specs/stylegan.gan --data shapes --param S=64 --param stage=100 \
    --at-step 700 --batch 32 --kernels "$kernels" --device cuda 2>&1 \
    | tee -a "$out/bench.log" || status=1
done
exit $status
