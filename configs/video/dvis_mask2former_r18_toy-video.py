# DVIS++-style decoupled tracking on the toy videos, stage 1 (online): the
# toy Mask2Former, trained on single frames and frozen, gives each frame's
# queries and mask features; a learned referring tracker (3 blocks) re-predicts
# them so that query i stays object i, trained on clips of 5 frames with the
# tube losses.  It starts from the segmenter's heads (the image checkpoint's
# warm start), at a low learning rate; DVIS++'s denoising and contrastive term
# are off here: on these videos, at 600 steps, they lowered VPQ (the closing
# note of issue 27 gives the runs; DVIS++'s own VIPSeg R50 config turns the
# contrastive term off too).  Turn them on with
#   --cfg-options model.referring_tracker.noise=wa model.criterion.reid_weight=2
#   python tools/train.py configs/video/mask2former_r18_online-tracker_toy-video.py
#   python tools/train.py configs/video/dvis_mask2former_r18_toy-video.py \
#       --cfg-options load_from=work_dirs/mask2former_r18_online-tracker_toy-video/iter_2000.pth
# Stage 2 (offline refiner): dvis-offline_mask2former_r18_toy-video.py.
_base_ = '../mask2former/mask2former_r18_toy.py'
from mmpanoptic.config_builders import (  # noqa: E402
    clip_training,
    toy_dvis_model,
    toy_dvis_schedule,
    toy_video_data,
    train_pipeline,
)

# 3 blocks, no denoising or contrastive term, the toy segmenter's 1024 points (toy_dvis_model).
model = toy_dvis_model({{_base_.model}})

(dataset_type, test_pipeline, train_dataloader, val_dataloader, test_dataloader,
 val_evaluator, test_evaluator) = toy_video_data({{_base_.train_pipeline}})
# 2 clips of 5 consecutive frames per step.
train_pipeline, train_dataloader = clip_training(
    train_pipeline(dict(type='mmdet.Resize', scale=(128, 128), keep_ratio=True)),
    train_dataloader, clip_length=5)

# The image model's weights (a checkpoint of the toy image or video config).
load_from = 'work_dirs/mask2former_r18_online-tracker_toy-video/iter_2000.pth'
max_iters = 600
train_cfg, optim_wrapper, param_scheduler, default_hooks = toy_dvis_schedule(max_iters)
