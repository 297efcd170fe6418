"""The training images' fingerprint in model.json: small, exact for small sets, an unbiased estimate for large ones."""

import base64
import json

import numpy as np

from inkread.evaluation.fingerprint import SAMPLE_SIZE, content_overlap_warning, count_matches, training_fingerprint


def random_images(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 28, 28), dtype=np.uint8)


def test_a_small_training_set_is_fingerprinted_whole_and_counted_exactly():
    train = random_images(300, 0)
    fingerprint = training_fingerprint(np.concatenate([train, train[:10]]))  # copies count once
    assert fingerprint["images"] == 300
    evaluated = np.concatenate([train[:120], random_images(80, 1)])
    found = count_matches(fingerprint, evaluated)
    assert found["exact"] and found["matched"] == found["estimated"] == 120 and found["eligible"] == 200
    warning = content_overlap_warning("'ft'", fingerprint, evaluated)
    assert warning.startswith("'ft' was trained on 120 of the 200 evaluated images (60%, matched by their pixels)")
    assert "overstates" in warning and "\n" not in warning
    # no match, a single one, or none recorded: nothing to say
    assert content_overlap_warning("'ft'", fingerprint, random_images(50, 2)) == ""
    assert content_overlap_warning("'ft'", fingerprint, np.concatenate([train[:1], random_images(5, 3)])) == ""
    assert content_overlap_warning("'ft'", None, evaluated) == "" and count_matches({"method": "other"}, evaluated) is None
    assert count_matches({**fingerprint, "hashes": "not base64!"}, evaluated) is None


def test_a_large_training_set_keeps_a_small_sample_that_estimates_the_overlap():
    train = random_images(20_000, 4)
    fingerprint = training_fingerprint(train)
    assert len(json.dumps(fingerprint)) < 23_000  # model.json stays small: ~22 KB however large the data set
    assert fingerprint["images"] == 20_000 and len(base64.b64decode(fingerprint["hashes"])) == 8 * SAMPLE_SIZE
    evaluated = np.concatenate([train[:6000], random_images(4000, 5)])
    found = count_matches(fingerprint, evaluated)
    assert not found["exact"] and 0 < found["eligible"] < len(evaluated)
    assert abs(found["estimated"] - 6000) < 600  # ~1,000 eligible images: a few percent off at most
    assert "about " in content_overlap_warning("'m'", fingerprint, evaluated)
    assert count_matches(fingerprint, random_images(3000, 6))["matched"] == 0
