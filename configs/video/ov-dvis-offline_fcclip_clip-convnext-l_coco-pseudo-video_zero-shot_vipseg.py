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
from mmpanoptic.config_builders import ov_dvis_zero_shot, step_schedule  # noqa: E402

(model, train_pipeline, train_dataloader, test_pipeline, tta_pipeline, val_dataloader,
 test_dataloader, val_evaluator, custom_hooks) = ov_dvis_zero_shot(
    'vipseg', {{_base_.model}}, clip_length=11, offline=True)
test_evaluator = val_evaluator
train_cfg, optim_wrapper, param_scheduler = step_schedule(40000, 28000, lr=1e-4)
