"""Pack panoptic inputs into :class:`mmdet.structures.DetDataSample`."""
import torch
from mmdet.datasets.transforms import PackDetInputs
from mmengine.structures import PixelData

from mmpanoptic.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackPanopticInputs(PackDetInputs):
    """mmdet's ``PackDetInputs`` plus the panoptic ground truth.

    When ``gt_panoptic_ids`` is present it becomes
    ``data_sample.gt_panoptic_seg``: a PixelData whose ``sem_seg`` is the
    (1, H, W) int32 segment id map and whose metainfo holds
    ``segments_info``.  Predictions use the same layout
    (``pred_panoptic_seg``), so evaluation needs no PNG round trip.
    ``gt_instances_ids`` (track ids, ``LoadPanopticAnnotations(
    with_track_ids=True)``) become ``gt_instances.instances_ids``.
    """

    mapping_table = dict(PackDetInputs.mapping_table, gt_instances_ids='instances_ids')

    def __init__(self, *, meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                                      'scale_factor', 'flip', 'flip_direction')):
        super().__init__(meta_keys=meta_keys)

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        if 'gt_panoptic_ids' in results:
            ids = torch.from_numpy(results['gt_panoptic_ids'][None].copy())
            packed['data_samples'].gt_panoptic_seg = PixelData(
                sem_seg=ids, metainfo=dict(segments_info=results['gt_segments_info']))
        return packed
