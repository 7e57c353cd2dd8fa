# DVIS++ online on Cityscapes-VPS: the Mask2Former R50 image model
# (configs/mask2former/mask2former_r50_90k_cityscapes-panoptic.py), frozen, + the
# referring tracker (6 blocks, width 256, 8 heads, DVIS++'s weighted-average denoising
# at ratio 0.5), trained on clips of 5 frames 1..2 apart, 8 clips per step (8 GPUs x 1),
# 20k iterations, AdamW lr 1e-4 dropped 10x at 14k: DVIS++'s R50 VIPSeg recipe (its
# contrastive term is off there: reid_weight=0). Differences: our dataset base's scales
# (DVIS++ trains VIPSeg at a short side of 360..480); each frame of a clip is augmented
# on its own.
#   python tools/train.py configs/video/dvis_mask2former_r50_cityscapes-vps.py \
#       --cfg-options load_from=IMAGE_MODEL.pth
#   python tools/test.py configs/video/dvis_mask2former_r50_cityscapes-vps.py CKPT
_base_ = '../mask2former/mask2former_r50_90k_cityscapes-panoptic.py'
from mmpanoptic.config_builders import dvis_model, video_clip_data  # noqa: E402

model = dvis_model({{_base_.model}}, num_layers=6, num_heads=8, feedforward_channels=2048,
                   clip_length=5, noise='wa', reid_weight=0.0)
(train_pipeline, test_pipeline, train_dataloader, val_dataloader, test_dataloader,
 val_evaluator, test_evaluator) = video_clip_data('cityscapes_vps', clip_length=5,
                                                  clips_per_batch=1, max_gap=2)
max_iters = 20000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = [dict(_delete_=True, type='MultiStepLR', milestones=[14000], gamma=0.1,
                        by_epoch=False, begin=0, end=max_iters)]
