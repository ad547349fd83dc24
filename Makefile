# Set-up is part of each target: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-fast fuzz bench bench-gpu grammar-snapshots

# torch comes first, pinned to the CPU wheel this machine keeps on disk; the project's range
# (torch>=2.11,<2.14) is then already satisfied and pip downloads no CUDA build. Where pip
# would find only PyPI's CUDA build, TORCH_INDEX=https://download.pytorch.org/whl/cpu asks
# torch's own index for the CPU wheel.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check torch==2.13.0 \
		$(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# The main job (examples/demo.sh): compile StarGAN, then train the conditional GAN on
# Fashion-MNIST when Debian's dataset-fashion-mnist is installed (else on the digits that ship
# with scikit-learn); it ends with a grid of samples, one row per class, and the eval table.
demo: $(VENV)/.installed
	BIN=$(BIN) bash examples/demo.sh

# The VS Code extension's grammar tools (vscode-tmgrammar-test), from its package-lock.json;
# node and npm from Debian where the machine has none.
EDITOR := editors/vscode
$(EDITOR)/node_modules/.installed: $(EDITOR)/package.json $(EDITOR)/package-lock.json
	command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq nodejs npm)
	npm ci --prefix $(EDITOR) --no-audit --no-fund --loglevel=error
	touch $@

test: $(VENV)/.installed $(EDITOR)/node_modules/.installed
	$(BIN)/python -m pytest

# After a change to the grammar or to a spec: rewrite the grammar's snapshot of every spec
# (editors/vscode/tests/snap/*.snap; review the diff), which tests/editors compares against.
grammar-snapshots: $(VENV)/.installed $(EDITOR)/node_modules/.installed
	GANDSL_UPDATE_SNAPSHOTS=1 $(BIN)/python -m pytest -q tests/editors

# The edit-test loop (under a minute here): the compiler's passes — tests/parse, check (lower
# and check), emit, fmt — the layer catalog, the docs' examples and the generated files; no
# training, kernels or data. `make test` stays the whole suite and is what CI runs.
FAST_TESTS := tests/parse tests/check tests/emit tests/fmt tests/layers/test_layers.py \
	tests/test_docs.py
test-fast: $(VENV)/.installed
	$(BIN)/python -m pytest -q $(FAST_TESTS)

# The compiler's fuzzers for longer than `make test` runs them, with fresh randomness: every
# input ends in a result or a diagnostic (tests/hostile/test_fuzz.py), and every spec of
# hostile names compiles to a module that only defines (tests/hostile/test_naming.py).
FUZZ_EXAMPLES ?= 2000
fuzz: $(VENV)/.installed
	GANDSL_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/hostile/test_fuzz.py \
		tests/hostile/test_naming.py

# benchmarks/augment.py times DiffAugment against mit-han-lab/data-efficient-gans'
# DiffAugment_pytorch.py where DIFFAUGMENT_REFERENCE names that file (it is not part of this
# repository), otherwise against its own hand-written baseline.
bench: $(VENV)/.installed
	$(BIN)/python benchmarks/compile_speed.py --write docs/performance.md
	$(BIN)/python benchmarks/train_step.py --write docs/performance.md
	$(BIN)/python benchmarks/augment.py --write docs/performance.md

# Needs a CUDA GPU: the kernels' tests on CUDA, the Triton kernels against eager PyTorch and
# torch.compile (docs/performance.md), and whole training iterations with and without them.
bench-gpu: $(VENV)/.installed
	PYTHON=$(BIN)/python bash benchmarks/on_gpu.sh gpu-results
