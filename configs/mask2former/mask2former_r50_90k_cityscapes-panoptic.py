# Mask2Former R50 on Cityscapes panoptic (19 classes), 90k iterations of 16
# images at 512x1024 crops, 200 queries.  Paper: 62.1 PQ.
_base_ = [
    '../_base_/models/mask2former_r50.py',
    '../_base_/datasets/cityscapes_panoptic.py',
    '../_base_/schedules/mask2former_50e.py',
    '../_base_/default_runtime.py',
]
from mmpanoptic.config_builders import poly_iter_schedule  # noqa: E402

num_things_classes = 8
num_stuff_classes = 11
crop_size = (512, 1024)
model = dict(
    num_things_classes=num_things_classes,
    num_stuff_classes=num_stuff_classes,
    data_preprocessor=dict(batch_augments=[
        dict(type='mmdet.BatchFixedSizePad', size=crop_size, img_pad_value=0,
             pad_mask=True, mask_pad_value=0, pad_seg=True, seg_pad_value=255)
    ]),
    panoptic_head=dict(num_queries=200))
train_dataloader = dict(batch_size=2)  # 8 GPUs x 2
max_iters = 90000
# Poly decay to 0; evaluation and checkpoints every 5000 iterations, logs by iteration.
param_scheduler, train_cfg, default_hooks, log_processor = poly_iter_schedule(max_iters)
