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
param_scheduler = dict(_delete_=True, type='PolyLR', eta_min=0, power=0.9, begin=0,
                       end=max_iters, by_epoch=False)
# Evaluate every 5000 iterations and once more at the end (as the base schedule).
train_cfg = dict(max_iters=max_iters,
                 dynamic_intervals=[(max_iters // 5000 * 5000 + 1, max_iters)])

# Iteration-based: checkpoints every 5000 iterations, logs by iteration.
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, save_last=True,
                                     max_keep_ckpts=3, interval=5000))
log_processor = dict(by_epoch=False)
