# Near-online tube queries on the toy videos: the toy Mask2Former whose
# queries attend to the features of a clip of 2 frames at once and predict a
# tube (one class, a mask per frame); clips are linked by matching their
# query embeddings.  Trained from scratch on clips (2 clips of 2 frames = the
# image config's 4 images per step, same 2000 steps), with one match per
# tube.  Change the clip length with
#   --cfg-options model.clip_length=T test_dataloader.batch_sampler.clip_length=T
# (T = 1: online, each frame detected and linked by query embeddings).
#   python tools/dataset_converters/make_toy_video.py --out data/toy_video
#   python tools/train.py configs/video/mask2former_r18_tube-clip2_toy-video.py
_base_ = '../mask2former/mask2former_r18_toy.py'
from mmpanoptic.config_builders import (  # noqa: E402
    clip_training,
    toy_video_data,
    train_pipeline,
    tube_recipe,
    whole_video_batches,
)

clip_length = 2
model = tube_recipe({{_base_.model}}, clip_length)

(dataset_type, test_pipeline, train_dataloader, val_dataloader, test_dataloader,
 val_evaluator, test_evaluator) = toy_video_data({{_base_.train_pipeline}})
train_pipeline, train_dataloader = clip_training(
    train_pipeline(dict(type='mmdet.Resize', scale=(128, 128), keep_ratio=True)),
    train_dataloader, clip_length=clip_length, clips_per_batch=2)
# One clip per test batch.
val_dataloader = test_dataloader = whole_video_batches(val_dataloader, clip_length)
