"""Write overlay pictures of panoptic predictions during val / test."""
import os
import os.path as osp
from typing import Optional, Sequence

import mmcv
import numpy as np
from mmengine.hooks import Hook

from mmpanoptic.registry import HOOKS
from mmpanoptic.visualization import draw_panoptic, gt_segments_with_labels


@HOOKS.register_module()
class PanopticVisualizationHook(Hook):
    """Save ``image | prediction | ground truth`` pictures for the first images.

    Pictures go to ``{work_dir}/vis/{val|test}/{img_id}.png`` (val pictures are
    overwritten at every validation, so they show the latest model).

    Args:
        max_images: how many images to draw per val / test run.
        scale: nearest-neighbour upscaling for small images.
        out_dir: folder instead of ``{work_dir}/vis``.
    """
    priority = 'NORMAL'

    def __init__(self, *, max_images: int = 8, scale: int = 3,
                 out_dir: Optional[str] = None) -> None:
        self.max_images = max_images
        self.scale = scale
        self.out_dir = out_dir
        self._drawn = 0

    def before_val_epoch(self, runner) -> None:
        self._drawn = 0

    def before_test_epoch(self, runner) -> None:
        self._drawn = 0

    def after_val_iter(self, runner, batch_idx: int, data_batch=None,
                       outputs: Optional[Sequence] = None) -> None:
        self._draw(runner, outputs, 'val')

    def after_test_iter(self, runner, batch_idx: int, data_batch=None,
                        outputs: Optional[Sequence] = None) -> None:
        self._draw(runner, outputs, 'test')

    def _draw(self, runner, outputs, mode: str) -> None:
        if not outputs or self._drawn >= self.max_images:
            return
        meta = runner.test_evaluator.dataset_meta if mode == 'test' else \
            runner.val_evaluator.dataset_meta
        classes, palette = meta['classes'], meta['palette']
        folder = osp.join(self.out_dir or osp.join(runner.work_dir, 'vis'), mode)
        os.makedirs(folder, exist_ok=True)
        for sample in outputs:
            if self._drawn >= self.max_images:
                break
            if 'pred_panoptic_seg' not in sample:
                continue
            img = mmcv.imread(sample.img_path, channel_order='rgb')
            pred = sample.pred_panoptic_seg
            panels = [
                draw_panoptic(img, np.zeros(img.shape[:2], np.int32), [], classes, palette,
                              scale=self.scale, title='image'),
                draw_panoptic(img, pred.sem_seg[0].cpu().numpy(), pred.segments_info,
                              classes, palette, scale=self.scale, title='prediction'),
            ]
            if 'gt_panoptic_seg' in sample:
                gt = sample.gt_panoptic_seg
                panels.append(draw_panoptic(
                    img, gt.sem_seg[0].cpu().numpy(),
                    gt_segments_with_labels(gt.segments_info), classes, palette,
                    scale=self.scale, title='ground truth'))
            name = osp.join(folder, f'{sample.get("img_id", self._drawn)}.png')
            mmcv.imwrite(np.hstack(panels)[..., ::-1], name)
            self._drawn += 1
