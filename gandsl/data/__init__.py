"""The trainer's data layer: datasets that need no download, and exactly resumable loaders.

    sources = build_sources(spec, ["faces"], batch_size=16, device="cuda", seed=0)
    x, c = sources["faces"].next()

Sources: `digits` (scikit-learn's 8×8 digits), `shapes` (procedural, serves any spec with
`--data shapes`), `image_folder`, `celeba`, and the pair sources `aligned_folder` (pix2pix's
A|B files) and `segmentation_folder` (label maps with their photos). Every problem with the
data is a `DataError` raised by `build_sources`, before training, with a message for the user.
"""

from .base import ImageDataset, Request
from .errors import DataError
from .factory import OVERRIDES, build_dataset
from .names import names_of_classes
from .shapes import ATTRIBUTES, CLASS_LAYOUTS, class_names
from .source import Source, build_sources

__all__ = ["ATTRIBUTES", "CLASS_LAYOUTS", "OVERRIDES", "DataError", "ImageDataset", "Request",
           "Source", "build_dataset", "build_sources", "class_names", "names_of_classes"]
