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
from mmpanoptic.config_builders import ov_dvis_zero_shot, step_schedule  # noqa: E402

(model, train_pipeline, train_dataloader, test_pipeline, tta_pipeline, val_dataloader,
 test_dataloader, val_evaluator, custom_hooks) = ov_dvis_zero_shot(
    'vipseg', {{_base_.model}}, clip_length=5)
test_evaluator = val_evaluator
train_cfg, optim_wrapper, param_scheduler = step_schedule(40000, 28000, lr=1e-4)
