"""The runtime package re-exports everything generated code imports."""

import gandsl.runtime as rt

PUBLIC = {
    "PixelNorm",
    "ConditionalBatchNorm",
    "AdaIN",
    "SPADE",
    "equalized_lr",
    "MinibatchStdDev",
    "NoiseInjection",
    "ConstantInput",
    "SelfAttention",
    "Projection",
    "Maxout",
    "tile",
    "adain_ref",
}


def test_public_names_exported() -> None:
    assert set(rt.__all__) == PUBLIC
    for name in PUBLIC:
        assert callable(getattr(rt, name))
