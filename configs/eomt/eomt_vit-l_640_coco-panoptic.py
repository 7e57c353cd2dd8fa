# EoMT ViT-L/16 (DINOv2) on COCO panoptic at 640x640: the paper's recipe
# (tue-mps/eomt configs/dinov2/coco/panoptic/eomt_large_640.yaml; 56.0 PQ).
# 12 epochs of 16 images (7393 iterations each); AdamW 1e-4, weight decay
# 0.05, layer-wise decay 0.8; new parts warm up for 500 iterations while the
# ViT is frozen, then the ViT for 1000; poly decay (0.9); masked attention
# annealed block by block between 1/6 and 5/6 of the schedule.
#   python tools/train.py configs/eomt/eomt_vit-l_640_coco-panoptic.py
_base_ = [
    '../_base_/models/eomt_vit-l_dinov2.py',
    '../_base_/datasets/coco_panoptic.py',
    '../_base_/default_runtime.py',
]
from mmpanoptic.config_builders import (  # noqa: E402
    coco_panoptic_data,
    eomt_schedule,
    eomt_test_pipeline,
    eomt_train_pipeline,
    eomt_tta_pipeline,
)

img_size = (640, 640)
train_pipeline = eomt_train_pipeline(img_size)
test_pipeline = eomt_test_pipeline(img_size)
train_dataloader, val_dataloader, test_dataloader, val_evaluator = coco_panoptic_data(
    'data/coco/', train_pipeline, test_pipeline)
train_dataloader.update(batch_size=4, num_workers=4)  # 4 GPUs x 4 = EoMT's 16
test_evaluator = val_evaluator
tta_pipeline = eomt_tta_pipeline(img_size)  # --tta: the view and its mirror

max_iters = 12 * 7393  # 12 epochs of COCO's 118287 images in batches of 16
(optim_wrapper, param_scheduler, train_cfg, custom_hooks, default_hooks,
 log_processor) = eomt_schedule(max_iters, lr=1e-4, layer_decay=0.8,
                                annealing_starts=[14782, 29564, 44346, 59128],
                                annealing_ends=[29564, 44346, 59128, 73910])
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# Learning rate written for 16 images per iteration (EoMT's 4 GPUs x 4).
auto_scale_lr = dict(enable=False, base_batch_size=16)
