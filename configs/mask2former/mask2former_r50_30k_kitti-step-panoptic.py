# Mask2Former R50 trained on KITTI-STEP's frames as images (19 Cityscapes
# classes; STEP tracks only person and car, so 2 things and 17 stuff), 30k
# iterations of 16 frames at 384x1248 crops (deeplab2's KITTI-STEP crop),
# 200 queries; the image model of
# configs/video/mask2former_r50_online-tracker_kitti-step.py.  Start from
# Cityscapes panoptic weights (load_from) as deeplab2's STEP baselines do;
# the label order (things first: person, car) is the STEP conversion's
# (configs/_base_/datasets/kitti_step.py).
_base_ = [
    '../_base_/models/mask2former_r50.py',
    '../_base_/datasets/kitti_step.py',
    '../_base_/schedules/mask2former_50e.py',
    '../_base_/default_runtime.py',
]
from mmpanoptic.config_builders import poly_iter_schedule  # noqa: E402

num_things_classes = 2
num_stuff_classes = 17
crop_size = (384, 1248)
model = dict(
    num_things_classes=num_things_classes,
    num_stuff_classes=num_stuff_classes,
    data_preprocessor=dict(batch_augments=[
        dict(type='mmdet.BatchFixedSizePad', size=crop_size, img_pad_value=0,
             pad_mask=True, mask_pad_value=0, pad_seg=True, seg_pad_value=255)
    ]),
    panoptic_head=dict(num_queries=200))
train_dataloader = dict(batch_size=2)  # 8 GPUs x 2
val_evaluator = dict(_delete_=True, type='PanopticQualityMetric')
test_evaluator = val_evaluator
max_iters = 30000
# Poly decay to 0; evaluation and checkpoints every 5000 iterations, logs by iteration.
param_scheduler, train_cfg, default_hooks, log_processor = poly_iter_schedule(max_iters)
