"""The one reader and writer of panoptic PNGs.

COCO panoptic PNGs store a segment id per pixel as RGB
(``id = R + 256 G + 256^2 B``, :mod:`mmpanoptic.structures.panoptic_ids`).
Every part of mmpanoptic that reads or writes one goes through this module:
the dataset loader, the converters, the validator, the file evaluators and
the runner metric that writes prediction PNGs.

Decoding uses libspng (``pyspng``): about 2x faster than PIL, panopticapi's
decoder, or OpenCV's libpng (``benchmarks/pq_eval_speed.py``); OpenCV is the
fallback where pyspng is missing.  Encoding uses OpenCV.  numpy, OpenCV and
pyspng only: the file evaluators start without torch.

Failures raise :class:`~mmpanoptic.fileio.errors.PanopticFileError` naming
``where`` (the image) and the path.
"""
import os
import os.path as osp

import cv2
import numpy as np

from mmpanoptic.structures import id2rgb, rgb2id

from .errors import PanopticFileError

try:  # libspng: the fastest PNG decoder on PyPI we measured
    import pyspng
except ImportError:  # pragma: no cover - pyspng is a runtime requirement
    pyspng = None

#: Mask of the id bits of :func:`read_png_words`' words (the top byte is alpha).
ID_MASK = 0xFFFFFF


def png_decoder() -> str:
    """Which PNG decoder this process uses: ``'pyspng'`` or ``'opencv'``."""
    return 'opencv' if pyspng is None else 'pyspng'


def _read_bytes(path: str, where: str) -> bytes:
    try:
        with open(path, 'rb') as f:
            return f.read()
    except (FileNotFoundError, IsADirectoryError):
        raise PanopticFileError(f'{where}: PNG not found: {path}') from None


def decode_png_rgb(data: bytes, where: str, path: str = '(bytes)') -> np.ndarray:
    """(H, W, 3) uint8 RGB of PNG bytes; an alpha channel is dropped (as
    panopticapi does).  8-bit files only: a 16-bit PNG cannot hold panoptic ids
    this way and is refused."""
    if pyspng is not None:
        try:
            rgb = pyspng.load(data, 'RGB')
        except Exception as e:  # libspng reports corrupt data as a plain Exception
            raise PanopticFileError(f'{where}: PNG is unreadable: {path} ({e})') from None
        if rgb.dtype != np.uint8:
            raise PanopticFileError(
                f'{where}: PNG {path} has {rgb.dtype.itemsize * 8}-bit channels; '
                'COCO panoptic PNGs are 8-bit RGB')
        return rgb
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise PanopticFileError(f'{where}: PNG is unreadable: {path}')
    return bgr[..., ::-1]


def read_png_rgb(path: str, where: str) -> np.ndarray:
    """(H, W, 3) uint8 RGB of a PNG file (see :func:`decode_png_rgb`)."""
    return decode_png_rgb(_read_bytes(path, where), where, path)


def decode_panoptic_png(data: bytes, where: str, path: str = '(bytes)') -> np.ndarray:
    """(H, W) int64 segment ids of panoptic PNG bytes."""
    return rgb2id(decode_png_rgb(data, where, path))


def read_panoptic_png(path: str, where: str) -> np.ndarray:
    """(H, W) int64 segment ids of a panoptic PNG file."""
    return rgb2id(read_png_rgb(path, where))


def read_png_words(path: str, where: str) -> np.ndarray:
    """(H, W) uint32 words ``id | 0xFF << 24`` of a panoptic PNG: the id of
    the first three channels plus a constant alpha byte, built by OpenCV's
    SIMD RGB->RGBA conversion (a view, no id arithmetic; the PQ evaluator's
    fast path).  Mask with :data:`ID_MASK` to get the id."""
    rgb = np.ascontiguousarray(read_png_rgb(path, where))
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2RGBA).view(np.uint32)[..., 0]


def read_label_png(path: str, where: str) -> np.ndarray:
    """(H, W) int64 labels of a one-channel 8- or 16-bit PNG (a semantic or
    instance-id map); a colour PNG is refused."""
    if not osp.isfile(path):
        raise PanopticFileError(f'{where}: PNG not found: {path}')
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise PanopticFileError(f'{where}: PNG is unreadable: {path}')
    if img.ndim == 3:
        raise PanopticFileError(f'{where}: {path} has {img.shape[2]} channels; expected one '
                                '(a label per pixel)')
    return img.astype(np.int64)


def _write(path: str, image: np.ndarray) -> str:
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    if not cv2.imwrite(path, image):
        raise PanopticFileError(f'cannot write PNG {path}')
    return path


def write_panoptic_png(path: str, ids: np.ndarray) -> str:
    """Write an (H, W) integer id map as an RGB-id PNG (folders created)."""
    return _write(path, np.ascontiguousarray(id2rgb(np.asarray(ids))[..., ::-1]))


def write_rgb_png(path: str, rgb: np.ndarray) -> str:
    """Write an (H, W, 3) uint8 RGB array (an image, a STEP frame) as PNG."""
    return _write(path, np.ascontiguousarray(np.asarray(rgb, np.uint8)[..., ::-1]))


def write_label_png(path: str, labels: np.ndarray) -> str:
    """Write an (H, W) label map as a one-channel 8-bit (or 16-bit) PNG."""
    labels = np.asarray(labels)
    if labels.min(initial=0) < 0 or labels.max(initial=0) > 65535:
        raise PanopticFileError(f'{path}: labels must lie in [0, 65535]')
    dtype = np.uint8 if labels.max(initial=0) <= 255 else np.uint16
    return _write(path, labels.astype(dtype))


__all__ = ['ID_MASK', 'png_decoder', 'decode_png_rgb', 'read_png_rgb', 'decode_panoptic_png',
           'read_panoptic_png', 'read_png_words', 'read_label_png', 'write_panoptic_png',
           'write_rgb_png', 'write_label_png']
