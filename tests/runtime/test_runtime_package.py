"""The runtime package re-exports everything generated code imports."""

import gandsl.runtime as rt
from gandsl.functions import FUNCTIONS

LAYERS = {"PixelNorm", "ConditionalBatchNorm", "AdaIN", "SPADE", "equalized_lr", "MinibatchStdDev",
          "NoiseInjection", "ConstantInput", "SelfAttention", "Projection", "Maxout", "tile",
          "adain_ref"}
PENALTIES = {"gradient_penalty", "r1", "r2", "path_length", "clip_weights"}


def test_public_names_exported() -> None:
    public = set(rt.__all__)
    assert LAYERS | PENALTIES <= public
    for name in public:
        assert callable(getattr(rt, name)), name


def test_every_objective_function_the_compiler_knows_is_implemented() -> None:
    """Each function is either plain torch in the generated code (tensor math) or in the
    runtime, never both."""
    missing = sorted(n for n, fn in FUNCTIONS.items() if fn.torch is None and n not in rt.__all__)
    assert missing == []
    twice = sorted(n for n, fn in FUNCTIONS.items() if fn.torch is not None and n in rt.__all__)
    assert twice == []
