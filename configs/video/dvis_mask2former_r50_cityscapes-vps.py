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
from mmpanoptic.config_builders import dvis_recipe  # noqa: E402

(model, train_pipeline, test_pipeline, train_dataloader, val_dataloader, test_dataloader,
 val_evaluator, test_evaluator, train_cfg, optim_wrapper,
 param_scheduler) = dvis_recipe('cityscapes_vps', {{_base_.model}})
