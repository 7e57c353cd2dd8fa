# OV-DVIS++ offline, zero-shot on VIPSeg: the temporal refiner (6 blocks)
# on the frozen online model
# (ov-dvis_fcclip_clip-convnext-l_coco-pseudo-video_zero-shot_vipseg.py; load
# its checkpoint), trained on pseudo videos of 11 copies of a COCO image,
# tested on whole VIPSeg videos, one per batch; a track's FC-CLIP-ensembled
# class is averaged over its video.  OV-DVIS++ reports VIPSeg VPQ 30.4
# offline with this tower (no figure of ours).  Settings of the official
# DVIS_Offline_zero_shot_convnextl.yaml (11 frames, 40k iterations, lr 1e-4
# dropped at 28k); differences: as the online config, and no reversed clips.
#   python tools/train.py \
#       configs/video/ov-dvis-offline_fcclip_clip-convnext-l_coco-pseudo-video_zero-shot_vipseg.py \
#       --cfg-options load_from=OV_DVIS_ONLINE.pth
_base_ = '../open_vocab/fcclip_clip-convnext-l_lsj-50e_coco-panoptic.py'
from mmpanoptic.config_builders import (  # noqa: E402
    OV_DVIS_PSEUDO_SCALES,
    dvis_model,
    pseudo_video_clips,
    train_pipeline,
    zero_shot_video,
)

model = dvis_model({{_base_.model}}, num_layers=6, num_heads=8, feedforward_channels=2048,
                   clip_length=11, noise='wa', reid_weight=2.0, offline=True, kernel_size=5,
                   detector_changes=dict(data_preprocessor=dict(batch_augments=None)))
train_pipeline, train_dataloader = pseudo_video_clips(
    train_pipeline(dict(type='mmdet.RandomChoiceResize', scales=OV_DVIS_PSEUDO_SCALES,
                        keep_ratio=True)),
    clip_length=11, clips_per_batch=1)
(model, test_pipeline, tta_pipeline, val_dataloader, test_dataloader, val_evaluator,
 custom_hooks) = zero_shot_video('vipseg', None, model=model, test_scale=(1333, 480))
val_dataloader['batch_sampler'] = dict(type='VideoBatchSampler')
test_dataloader = val_dataloader
test_evaluator = val_evaluator
max_iters = 40000
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = [dict(_delete_=True, type='MultiStepLR', milestones=[28000], gamma=0.1,
                        by_epoch=False, begin=0, end=max_iters)]
