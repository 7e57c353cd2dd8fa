# Mask2Former R50 on ADE20K panoptic (150 classes), 160k iterations of 16
# images at 640x640.  Paper: 39.7 PQ.
_base_ = [
    '../_base_/models/mask2former_r50.py',
    '../_base_/datasets/ade20k_panoptic.py',
    '../_base_/schedules/mask2former_50e.py',
    '../_base_/default_runtime.py',
]
from mmpanoptic.config_builders import poly_iter_schedule  # noqa: E402

num_things_classes = 100
num_stuff_classes = 50
crop_size = (640, 640)
model = dict(
    num_things_classes=num_things_classes,
    num_stuff_classes=num_stuff_classes,
    data_preprocessor=dict(batch_augments=[
        dict(type='mmdet.BatchFixedSizePad', size=crop_size, img_pad_value=0,
             pad_mask=True, mask_pad_value=0, pad_seg=True, seg_pad_value=255)
    ]))
train_dataloader = dict(batch_size=2)  # 8 GPUs x 2
max_iters = 160000
# Poly decay to 0; evaluation and checkpoints every 5000 iterations, logs by iteration.
param_scheduler, train_cfg, default_hooks, log_processor = poly_iter_schedule(max_iters)
