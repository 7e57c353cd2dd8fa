import numpy as np
import pytest

from mmpanoptic.structures import id2rgb, rgb2id


def test_rgb2id_hand_values():
    rgb = np.array([[[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [255, 255, 255]]], np.uint8)
    assert rgb2id(rgb).tolist() == [[0, 1, 256, 65536, 256**3 - 1]]


def test_roundtrip_random():
    ids = np.random.default_rng(0).integers(0, 256**3, (7, 9))
    assert np.array_equal(rgb2id(id2rgb(ids)), ids)


def test_errors():
    with pytest.raises(ValueError, match='RGB'):
        rgb2id(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match='256'):
        id2rgb(np.array([[256**3]]))
