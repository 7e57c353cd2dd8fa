# EoMT ViT-L/16 (DINOv2) on ADE20K panoptic (150 classes) at 640x640 (EoMT's
# configs/dinov2/ade20k/panoptic/eomt_large_640.yaml): 31 epochs of 16 images
# (1263 iterations each), the COCO recipe otherwise; masked attention
# annealed block by block between 1/6 and 5/6 of the schedule.
_base_ = [
    '../_base_/models/eomt_vit-l_dinov2.py',
    '../_base_/datasets/ade20k_panoptic.py',
    '../_base_/default_runtime.py',
]
from mmpanoptic.config_builders import (  # noqa: E402
    eomt_schedule,
    eomt_test_pipeline,
    eomt_train_pipeline,
    eomt_tta_pipeline,
)

num_things_classes = 100
num_stuff_classes = 50
img_size = (640, 640)
model = dict(num_things_classes=num_things_classes, num_stuff_classes=num_stuff_classes)
train_pipeline = eomt_train_pipeline(img_size)
test_pipeline = eomt_test_pipeline(img_size)
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
tta_pipeline = eomt_tta_pipeline(img_size)  # --tta: the view and its mirror

max_iters = 31 * 1263
(optim_wrapper, param_scheduler, train_cfg, custom_hooks, default_hooks,
 log_processor) = eomt_schedule(max_iters, lr=1e-4, layer_decay=0.8,
                                annealing_starts=[6520, 13040, 19560, 26080],
                                annealing_ends=[13040, 19560, 26080, 32600])
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(enable=False, base_batch_size=16)
