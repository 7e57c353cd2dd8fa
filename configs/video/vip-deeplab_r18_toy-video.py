# ViP-DeepLab on the toy videos: the toy Panoptic-DeepLab plus the next-frame
# instance branch (a DeepLabV3+ decoder on the features of frames t and t+1
# concatenated, predicting where each pixel of frame t+1 has its instance's
# center in frame t), trained from scratch on (t, t+1) pairs; at test the
# frames are stitched through the propagated centers (NextFrameStitcher).
#   python tools/dataset_converters/make_toy_video.py --out data/toy_video
#   python tools/train.py configs/video/vip-deeplab_r18_toy-video.py
_base_ = '../panoptic_deeplab/panoptic-deeplab_r18_toy.py'
from mmpanoptic.config_builders import (  # noqa: E402
    clip_training,
    toy_video_data,
    train_pipeline,
)

model = dict(
    _delete_=True,
    type='ViPDeepLab',
    detector={{_base_.model}},
    tracker=dict(type='NextFrameStitcher', iou_thr=0.1))

(dataset_type, test_pipeline, train_dataloader, val_dataloader, test_dataloader,
 val_evaluator, test_evaluator) = toy_video_data({{_base_.train_pipeline}})
# 2 (t, t+1) pairs per step: 4 frames, the image config's batch.
train_pipeline, train_dataloader = clip_training(
    train_pipeline(dict(type='mmdet.Resize', scale=(128, 128), keep_ratio=True)),
    train_dataloader, clip_length=2, clips_per_batch=2)
