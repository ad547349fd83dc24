"""Runtime layers imported by generated PyTorch code for what torch.nn does not provide.

Kept light on purpose: it imports only torch and its own submodules.
"""

from gandsl.runtime.functional import adain_ref, tile
from gandsl.runtime.layers import (
    ConstantInput,
    Maxout,
    MinibatchStdDev,
    NoiseInjection,
    Projection,
    SelfAttention,
)
from gandsl.runtime.modifiers import equalized_lr
from gandsl.runtime.norms import SPADE, AdaIN, ConditionalBatchNorm, PixelNorm

__all__ = [
    "SPADE",
    "AdaIN",
    "ConditionalBatchNorm",
    "ConstantInput",
    "Maxout",
    "MinibatchStdDev",
    "NoiseInjection",
    "PixelNorm",
    "Projection",
    "SelfAttention",
    "adain_ref",
    "equalized_lr",
    "tile",
]
