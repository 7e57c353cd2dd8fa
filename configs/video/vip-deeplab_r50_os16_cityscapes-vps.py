# ViP-DeepLab on Cityscapes-VPS (VPQ 70.4 val in the paper, with a WR-41 backbone and
# Mapillary pre-training): the Panoptic-DeepLab R50 Cityscapes recipe
# (configs/panoptic_deeplab/panoptic-deeplab_r50_os16_90k_cityscapes-panoptic.py) with 8
# thing / 11 stuff classes, plus the next-frame instance branch, trained on (t, t+1)
# pairs (2 pairs per GPU = the recipe's 4 frames) and stitched frame by frame at test.
# Differences from the paper: ResNet-50 (not WR-41), no depth head, no Mapillary /
# pseudo-label pre-training.
#   python tools/train.py configs/video/vip-deeplab_r50_os16_cityscapes-vps.py
_base_ = '../panoptic_deeplab/panoptic-deeplab_r50_os16_90k_cityscapes-panoptic.py'
from mmpanoptic.config_builders import tta_pipeline, video_clip_data  # noqa: E402

model = dict(
    _delete_=True,
    type='ViPDeepLab',
    detector={{_base_.model}},
    detector_changes=dict(num_things_classes=8, num_stuff_classes=11),
    tracker=dict(type='NextFrameStitcher', iou_thr=0.1))
(train_pipeline, test_pipeline, train_dataloader, val_dataloader, test_dataloader,
 val_evaluator, test_evaluator) = video_clip_data('cityscapes_vps', clip_length=2,
                                                  clips_per_batch=2)
# Test-time augmentation around this dataset's test scale.
tta_pipeline = tta_pipeline((2048, 1024))
