# OV-DVIS++ online (DVIS++ paper, open-vocabulary setting), zero-shot on
# VIPSeg: the COCO-trained FC-CLIP ConvNeXt-L
# (configs/open_vocab/fcclip_clip-convnext-l_lsj-50e_coco-panoptic.py), frozen,
# + DVIS's referring tracker classifying in CLIP's text space, trained on
# pseudo videos of COCO panoptic (each image 5 times, every copy rescaled on
# its own; no video dataset in training), evaluated on VIPSeg's 124 classes
# from the bundled vocabulary.  OV-DVIS++ reports VIPSeg VPQ 28.9 online
# with this tower (no figure of ours: no COCO, weights or GPU here).
#   python tools/train.py \
#       configs/video/ov-dvis_fcclip_clip-convnext-l_coco-pseudo-video_zero-shot_vipseg.py \
#       --cfg-options load_from=FCCLIP_COCO.pth
#   python tools/test.py \
#       configs/video/ov-dvis_fcclip_clip-convnext-l_coco-pseudo-video_zero-shot_vipseg.py CKPT
# Settings of the official DVIS_Online_zero_shot_convnextl.yaml (and its
# FC-CLIP_zero_shot_convnextl.yaml base): 6 tracker blocks, width 256,
# 8 heads, FFN 2048, weighted-average denoising, the contrastive term on,
# clips of 5, 8 clips per step, 40k iterations, AdamW 1e-4 dropped 10x at
# 28k, pseudo-video scales 160..800 (longer side <= 1400), test at a
# shorter side of 480.  Differences, on purpose:
# - the tracker has its own text classifier, warm-started from FC-CLIP's
#   (OV-DVIS++ reuses the segmenter's class head, frozen);
# - FC-CLIP's ensemble is applied to each frame's tracked masks as they
#   come (OV-DVIS++ pools a track's CLIP features over the whole window);
# - no rotation among the pseudo-video augmentations; our base's schedule
#   hooks (logging, checkpoints).
_base_ = '../open_vocab/fcclip_clip-convnext-l_lsj-50e_coco-panoptic.py'
from mmpanoptic.config_builders import (  # noqa: E402
    OV_DVIS_PSEUDO_SCALES,
    dvis_model,
    pseudo_video_clips,
    train_pipeline,
    zero_shot_video,
)

model = dvis_model({{_base_.model}}, num_layers=6, num_heads=8, feedforward_channels=2048,
                   clip_length=5, noise='wa', reid_weight=2.0,
                   # frames of any size, padded to 32 (no LSJ canvas)
                   detector_changes=dict(data_preprocessor=dict(batch_augments=None)))
train_pipeline, train_dataloader = pseudo_video_clips(
    train_pipeline(dict(type='mmdet.RandomChoiceResize', scales=OV_DVIS_PSEUDO_SCALES,
                        keep_ratio=True)),
    clip_length=5, clips_per_batch=1)
(model, test_pipeline, tta_pipeline, val_dataloader, test_dataloader, val_evaluator,
 custom_hooks) = zero_shot_video('vipseg', None, model=model, test_scale=(1333, 480))
test_evaluator = val_evaluator
max_iters = 40000
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = [dict(_delete_=True, type='MultiStepLR', milestones=[28000], gamma=0.1,
                        by_epoch=False, begin=0, end=max_iters)]
