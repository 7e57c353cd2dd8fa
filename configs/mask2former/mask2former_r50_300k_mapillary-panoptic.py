# Mask2Former R50 on Mapillary Vistas v1.2 panoptic (65 classes: 37 things,
# 28 stuff), 300k iterations of 16 images at 1024x1024 crops, as the paper's
# (maskformer2_R50_bs16_300k: AdamW 1e-4, poly, gradient clipping 0.01,
# semantic + panoptic inference, no object-mask threshold).  Paper: 36.3 PQ.
_base_ = [
    '../_base_/models/mask2former_r50.py',
    '../_base_/datasets/mapillary_panoptic.py',
    '../_base_/schedules/mask2former_50e.py',
    '../_base_/default_runtime.py',
]
from mmpanoptic.config_builders import poly_iter_schedule  # noqa: E402

num_things_classes = 37
num_stuff_classes = 28
crop_size = (1024, 1024)
model = dict(
    num_things_classes=num_things_classes,
    num_stuff_classes=num_stuff_classes,
    data_preprocessor=dict(batch_augments=[
        dict(type='mmdet.BatchFixedSizePad', size=crop_size, img_pad_value=0,
             pad_mask=True, mask_pad_value=0, pad_seg=True, seg_pad_value=255)
    ]),
    fusion=dict(object_mask_thr=0.0, iou_thr=0.8))
train_dataloader = dict(batch_size=2)  # 8 GPUs x 2
max_iters = 300000
# Poly decay to 0; evaluation and checkpoints every 5000 iterations, logs by iteration.
param_scheduler, train_cfg, default_hooks, log_processor = poly_iter_schedule(max_iters)
