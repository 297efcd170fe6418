"""Data in: IDX files, checked downloads, and the MNIST/EMNIST/folder:/csv: data sets.

    from inkread.data import load_dataset
    splits = load_dataset("mnist")          # splits.train.images: uint8 (N, 28, 28), ink high, upright
    splits.labels, splits.recipe, len(splits.val), splits.source

Importing this package needs numpy only; pooch is imported when a file must be downloaded.
"""

from inkread.data.download import fetch
from inkread.data.load import SPECS, absolute_spec, load_dataset, same_data_set, training_data_dir, training_split
from inkread.data.splits import DatasetSplits, ImageSet

__all__ = ["load_dataset", "training_split", "training_data_dir", "same_data_set", "absolute_spec", "fetch", "DatasetSplits", "ImageSet", "SPECS"]
