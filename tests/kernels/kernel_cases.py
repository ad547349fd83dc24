"""What the kernel tests share: the device they run on and how errors are measured."""

import torch

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def relative_error(got: torch.Tensor, want: torch.Tensor) -> float:
    """max |got − want| / max |want|: the error relative to the size of the values."""
    want = want.double()
    return ((got.double() - want).abs().max() / want.abs().max().clamp_min(1e-30)).item()
