#!/usr/bin/env bash
# `make demo`: compile StarGAN, then train the conditional GAN on Fashion-MNIST when it is
# installed (else on the digits that ship with scikit-learn) and end with a grid of samples,
# one row per class, and the evaluation table.
set -euo pipefail
BIN=${BIN:-.venv/bin}
RUN=runs/demo-$(date +%Y%m%d-%H%M%S)

"$BIN/gandsl" compile specs/stargan.gan
if "$BIN/python" -c "from gandsl.data.idx import fashion_mnist_folder; fashion_mnist_folder()" \
    2>/dev/null; then
  "$BIN/gandsl" train specs/cgan.gan --data fashion-mnist --steps 3000 --sample-every 1000 \
    --print-every 500 --out "$RUN"
else
  echo "Fashion-MNIST is not installed (\`apt-get install dataset-fashion-mnist\`, or" \
       "GANDSL_DATA=DIR with DIR/fashion-mnist): training on scikit-learn's digits instead."
  "$BIN/gandsl" train specs/cgan.gan --data digits --steps 1500 --sample-every 500 \
    --print-every 500 --out "$RUN"
fi
"$BIN/gandsl" sample "$RUN" --per-class 10 -o "$RUN/classes.png" > /dev/null
# the first evaluation on a dataset trains its classifier once (Fashion-MNIST: ~6 min here)
"$BIN/gandsl" eval "$RUN" --n 2000
echo "samples, one row per class: $RUN/classes.png"
