"""Load COCO panoptic annotations (RGB-id PNG + segments_info)."""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks
from mmengine import fileio

from mmpanoptic.fileio import PanopticAnnotationError, decode_panoptic_png
from mmpanoptic.registry import TRANSFORMS
from mmpanoptic.structures import VOID

IGNORE_INDEX = 255


@TRANSFORMS.register_module()
class LoadPanopticAnnotations(BaseTransform):
    """Decode a panoptic PNG and build every target the models need.

    Why ours: mmdet's ``LoadPanopticAnnotations`` needs panopticapi (not on
    PyPI) and does not check the PNG against ``segments_info``.  Ours raises
    :class:`PanopticAnnotationError` naming the PNG, the image and the
    segment when they disagree, or when the PNG size differs from the JSON.

    Added keys (H, W = the PNG's size):

    - ``gt_bboxes`` (HorizontalBoxes, (N, 4)), ``gt_bboxes_labels`` (int64,
      (N,)), ``gt_ignore_flags`` (bool, (N,), True for crowd) and
      ``gt_masks`` (BitmapMasks, (N, H, W)) for thing segments;
    - ``gt_seg_map`` ((H, W) uint8 semantic labels, 255 = VOID);
    - with ``with_panoptic=True``: ``gt_panoptic_ids`` ((H, W) int32 segment
      ids) and ``gt_segments_info`` for evaluation at original resolution;
    - with ``with_track_ids=True``: ``gt_instances_ids`` (int32, (N,)), each
      thing's segment id, which is its track id in a video dataset (mmdet's
      crop keeps it in step with the boxes; packed as
      ``gt_instances.instances_ids``): learned trackers are supervised by it.

    Args:
        with_bbox, with_mask, with_seg: which targets to build.
        with_panoptic: keep the raw id map and segments for evaluation.
        with_track_ids: keep the things' segment ids (see above).
        backend_args: mmengine file backend arguments.
    """

    def __init__(self,
                 *,
                 with_bbox: bool = True,
                 with_mask: bool = True,
                 with_seg: bool = True,
                 with_panoptic: bool = False,
                 with_track_ids: bool = False,
                 backend_args: Optional[dict] = None) -> None:
        self.with_bbox = with_bbox
        self.with_mask = with_mask
        self.with_seg = with_seg
        self.with_panoptic = with_panoptic
        self.with_track_ids = with_track_ids
        self.backend_args = backend_args

    def _read_ids(self, results: dict) -> np.ndarray:
        path = results['seg_map_path']
        where = f'image {results.get("img_id")}'
        try:
            content = fileio.get(path, backend_args=self.backend_args)
        except (FileNotFoundError, OSError) as e:
            raise FileNotFoundError(f'panoptic PNG of {where} not found: {path}') from e
        ids = decode_panoptic_png(content, where, path)
        expect = (results.get('height'), results.get('width'))
        if None not in expect and ids.shape != expect:
            raise PanopticAnnotationError(
                f'{path} ({where}): PNG is {ids.shape[1]}x{ids.shape[0]} (WxH) but '
                f'the annotation says {expect[1]}x{expect[0]}')
        return ids

    def transform(self, results: dict) -> dict:
        ids = self._read_ids(results)
        segments = results['segments_info']
        path = results['seg_map_path']
        where = f'image {results.get("img_id")}'

        present = np.unique(ids)  # sorted; no inverse (that is the slow part)
        known = {s['id']: s for s in segments}
        for sid in present.tolist():
            if sid != VOID and sid not in known:
                raise PanopticAnnotationError(
                    f'{path} ({where}): segment id {sid} is in the PNG but not in '
                    f'segments_info')
        present_set = set(present.tolist())
        for sid in known:
            if sid not in present_set:
                raise PanopticAnnotationError(
                    f'{path} ({where}): segment {sid} is in segments_info but not '
                    f'in the PNG')

        things = [s for s in segments if s['isthing']]
        if self.with_bbox:
            boxes = np.array([[s['bbox'][0], s['bbox'][1], s['bbox'][0] + s['bbox'][2],
                               s['bbox'][1] + s['bbox'][3]] for s in things],
                             dtype=np.float32).reshape(-1, 4)
            results['gt_bboxes'] = HorizontalBoxes(boxes)
            results['gt_bboxes_labels'] = np.array([s['label'] for s in things],
                                                   dtype=np.int64)
            results['gt_ignore_flags'] = np.array([bool(s['iscrowd']) for s in things],
                                                  dtype=bool)
        if self.with_track_ids:
            results['gt_instances_ids'] = np.array([s['id'] for s in things], dtype=np.int32)
        if self.with_mask:
            h, w = ids.shape
            masks = np.stack([ids == s['id'] for s in things]).astype(np.uint8) \
                if things else np.zeros((0, h, w), np.uint8)
            results['gt_masks'] = BitmapMasks(masks, h, w)
        if self.with_seg:
            # Label per present id, then one gather: no per-segment pass.
            lut = np.full(len(present), IGNORE_INDEX, dtype=np.int64)
            for k, sid in enumerate(present.tolist()):
                if sid in known:
                    lut[k] = known[sid]['label']
            dtype = np.uint8 if lut.max(initial=0) <= 255 else np.int32
            results['gt_seg_map'] = lut[np.searchsorted(present, ids)].astype(dtype)
            results['ignore_index'] = IGNORE_INDEX
            results.setdefault('seg_fields', []).append('gt_seg_map')
        if self.with_panoptic:
            results['gt_panoptic_ids'] = ids.astype(np.int32)
            results['gt_segments_info'] = [dict(s) for s in segments]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(with_bbox={self.with_bbox}, '
                f'with_mask={self.with_mask}, with_seg={self.with_seg}, '
                f'with_panoptic={self.with_panoptic})')
