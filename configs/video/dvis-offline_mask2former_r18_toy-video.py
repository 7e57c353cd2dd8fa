# DVIS++-style decoupled tracking on the toy videos, stage 2 (offline): the
# temporal refiner (3 blocks of temporal self-attention, a short temporal
# convolution, object self-attention and cross-attention to the frame's
# queries) over the frozen stage-1 tracker's queries of a whole video; a
# track gets one class for the whole video.  It starts from the tracker's
# heads (warm start from the stage-1 checkpoint); trained on clips of 5
# frames with stage 1's settings; tested on whole videos, one video per batch.
#   python tools/train.py configs/video/dvis-offline_mask2former_r18_toy-video.py \
#       --cfg-options load_from=work_dirs/dvis_mask2former_r18_toy-video/iter_600.pth
# The same checkpoint runs online (the tracker alone) with
#   --cfg-options model.mode=online test_dataloader.batch_sampler=None
_base_ = '../mask2former/mask2former_r18_toy.py'
from mmpanoptic.config_builders import (  # noqa: E402
    clip_training,
    toy_dvis_model,
    toy_dvis_schedule,
    toy_video_data,
    train_pipeline,
    whole_video_batches,
)

model = toy_dvis_model({{_base_.model}}, offline=True)

(dataset_type, test_pipeline, train_dataloader, val_dataloader, test_dataloader,
 val_evaluator, test_evaluator) = toy_video_data({{_base_.train_pipeline}})
train_pipeline, train_dataloader = clip_training(
    train_pipeline(dict(type='mmdet.Resize', scale=(128, 128), keep_ratio=True)),
    train_dataloader, clip_length=5)
# Each test batch is one whole video.
val_dataloader = test_dataloader = whole_video_batches(val_dataloader)

load_from = 'work_dirs/dvis_mask2former_r18_toy-video/iter_600.pth'
max_iters = 600
train_cfg, optim_wrapper, param_scheduler, default_hooks = toy_dvis_schedule(max_iters)
