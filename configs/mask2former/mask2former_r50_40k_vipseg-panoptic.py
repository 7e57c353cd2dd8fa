# Mask2Former R50 trained on VIPSeg's frames as images (124 classes: 58 things,
# 66 stuff), 40k iterations of 16 frames at 720x720 crops, 200 queries; the
# image model of configs/video/mask2former_r50_query-tracker_vipseg.py.
# Validation scores each frame's panoptic PQ (no tracking); the video config
# adds the tracker and VPQ / STQ.  Initialising from COCO panoptic weights
# (load_from) is the usual start; prepare VIPSeg as configs/_base_/datasets/vipseg.py says.
_base_ = [
    '../_base_/models/mask2former_r50.py',
    '../_base_/datasets/vipseg.py',
    '../_base_/schedules/mask2former_50e.py',
    '../_base_/default_runtime.py',
]
from mmpanoptic.config_builders import poly_iter_schedule  # noqa: E402

num_things_classes = 58
num_stuff_classes = 66
crop_size = (720, 720)
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
max_iters = 40000
# Poly decay to 0; evaluation and checkpoints every 5000 iterations, logs by iteration.
param_scheduler, train_cfg, default_hooks, log_processor = poly_iter_schedule(max_iters)
