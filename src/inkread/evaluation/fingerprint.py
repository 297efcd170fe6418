"""A compact fingerprint of the images a model was trained on, kept in its model.json, so that
``evaluate`` can tell by content (not by the data set's path) how many evaluated images the model
was trained on: a copied or renamed folder, a CSV export of the same images, a merged folder.

Why this form: model.json must stay small (it is read by every ``predict`` and ``serve``), so the
training images' hashes cannot all be kept (MNIST's 54,000 would take ~600 KB even as base64). A random
sample of them would need the evaluated images to be sampled the same way to be comparable, and a
Bloom filter either grows with the data or fills up and matches everything. A *bottom-k* sample
does neither: the ``SAMPLE_SIZE`` smallest 64-bit content hashes of the distinct training images
(16 KB, 22 KB as base64), and the largest of them as the threshold. An evaluated image whose hash
is at or below the threshold would have been kept had it been a training image, so the share of
such images found among the kept hashes estimates the share of all evaluated images that are
training images, without bias (the same hash picks the same images on both sides). Up to
``SAMPLE_SIZE`` distinct training images (a user's own folder, typically) every hash is kept and
the count is exact. The hash is of the 28x28 pixels as the model sees them (``splits.pixel_digests``,
as splitting and de-duplication use), so the same file preprocessed the same way matches wherever
it is; an image edited by a pixel does not.
"""

from __future__ import annotations

import base64

import numpy as np

SAMPLE_SIZE = 2048
METHOD = "blake2b-64 bottom-k"
ALL = np.uint64(2 ** 64 - 1)
# Below this share (or with a single match) an overlap is left unsaid: a blank image or two can
# occur in any pair of data sets.
MIN_SHARE = 0.02
MIN_MATCHES = 2


def image_hashes(images: np.ndarray) -> np.ndarray:
    """The 64-bit content hash of each uint8 (N, 28, 28) image (the first half of its BLAKE2b digest)."""
    from inkread.data.splits import pixel_digests

    if len(images) == 0:
        return np.zeros(0, np.uint64)
    return pixel_digests(images)[:, 0].astype(np.uint64)


def training_fingerprint(images: np.ndarray, sample_size: int = SAMPLE_SIZE) -> dict:
    """The fingerprint of training images ``images`` (uint8 (N, 28, 28)) for model.json (see the module docstring)."""
    unique = np.unique(image_hashes(images))  # sorted: the first sample_size are the bottom-k
    kept = unique[:sample_size]
    threshold = ALL if len(unique) <= sample_size else kept[-1]
    return {"method": METHOD, "images": int(len(unique)), "below": f"{int(threshold):016x}",
            "hashes": base64.b64encode(kept.astype("<u8").tobytes()).decode("ascii")}


def count_matches(fingerprint, images: np.ndarray) -> dict | None:
    """How many of ``images`` a training fingerprint holds: ``{"matched", "eligible", "estimated", "exact",
    "sampled", "images"}``, or ``None`` for a record without a (readable) fingerprint.

    ``eligible``: the evaluated images whose hash lies at or below the threshold (all of them when
    the fingerprint is complete); ``estimated``: matched / eligible of all evaluated images.
    """
    if not isinstance(fingerprint, dict) or fingerprint.get("method") != METHOD:
        return None
    try:
        kept = np.frombuffer(base64.b64decode(fingerprint["hashes"], validate=True), dtype="<u8").astype(np.uint64)
        threshold = np.uint64(int(fingerprint["below"], 16))
    except (KeyError, TypeError, ValueError):  # a hand-edited or truncated record: as if there were none
        return None
    hashes = image_hashes(images)
    eligible = hashes <= threshold
    matched = int(np.isin(hashes[eligible], kept).sum())
    count = int(eligible.sum())
    estimated = round(matched / count * len(hashes)) if count else 0
    return {"matched": matched, "eligible": count, "estimated": int(estimated), "exact": bool(threshold == ALL),
            "sampled": int(len(kept)), "images": int(fingerprint.get("images", len(kept)))}


def content_overlap_warning(who: str, fingerprint, images: np.ndarray) -> str:
    """A one-line warning if a meaningful share of ``images`` are ones ``who`` was trained on ('' otherwise)."""
    found = count_matches(fingerprint, images)
    if not found or found["matched"] < MIN_MATCHES or found["estimated"] < MIN_SHARE * len(images):
        return ""
    share = found["estimated"] / len(images)
    how = ("matched by their pixels" if found["exact"] else
           f"estimated by their pixels from a sample of {found['sampled']:,} of its {found['images']:,} training images")
    return (f"{who} was trained on {'' if found['exact'] else 'about '}{found['estimated']:,} of the {len(images):,} "
            f"evaluated images ({share:.0%}, {how}), so the accuracy overstates how it reads unseen handwriting: "
            "evaluate on images it was not trained on")
