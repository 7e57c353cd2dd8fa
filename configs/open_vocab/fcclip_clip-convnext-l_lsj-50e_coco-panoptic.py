# FC-CLIP (Yu et al., NeurIPS 2023) as published: CLIP ConvNeXt-L
# (open_clip's convnext_large_d_320, weights laion2b_s29b_b131k_ft_soup),
# trained on COCO panoptic with Mask2Former's LSJ recipe (16 images of
# 1024 px per step, 50 epochs); zero-shot ADE20K / Cityscapes / Mapillary
# Vistas in the *_zero-shot_*.py configs beside this one.
# Weights (nothing is downloaded at run time): open_clip's
# open_clip_pytorch_model.bin of convnext_large_d_320 / laion2b_s29b_b131k_ft_soup
# (the hub folder laion/CLIP-convnext_large_d_320.laion2B-s29B-b131K-ft-soup),
# saved as clip_checkpoint below; both towers load from that one file.
#   python tools/train.py configs/open_vocab/fcclip_clip-convnext-l_lsj-50e_coco-panoptic.py
# Settings equal to the official configs/coco/panoptic-segmentation/fcclip/
# fcclip_convnext_large_eval_ade20k.yaml (its training config too), except:
# - schedule: mmdet's Mask2Former 50-epoch COCO schedule (iterations, LR
#   steps, AdamW 1e-4, weight decay 0.05, gradient clipping 0.01) as the RN50
#   config; the official one is detectron2's with the same values;
# - the frozen CLIP tower has no backbone LR multiplier (nothing to train).
_base_ = [
    '../_base_/models/mask2former_r50.py',
    '../_base_/datasets/coco_panoptic_lsj.py',
    '../_base_/schedules/mask2former_50e.py',
    '../_base_/default_runtime.py',
]
from mmpanoptic.config_builders import fcclip_model, open_vocab_runtime  # noqa: E402

clip_checkpoint = 'checkpoints/clip_convnext_large_d_320_laion2b_s29b_b131k_ft_soup.bin'
# The ConvNeXt path: each binary mask averages the last stage (no attention
# pool in a ConvNeXt), then the tower's head norm and MLP projection;
# ENSEMBLE_ON_VALID_MASK off (its default).
model = fcclip_model(
    dict(type='CLIPConvNeXt', model_name='convnext_large_d_320', checkpoint=clip_checkpoint,
         frozen=True),
    # open_clip-trained towers use GELU (OpenAI's use QuickGELU)
    dict(type='CLIPTextEncoder', model_name='convnext_large_d_320',
         checkpoint=clip_checkpoint, act='gelu'),
    [192, 384, 768, 1536], clip_pooling='mean', ensemble_on_valid_mask=False,
    num_queries=250)  # MASK_FORMER.NUM_OBJECT_QUERIES
model['fusion'] = dict(object_mask_thr=0.0)  # MASK_FORMER.TEST.OBJECT_MASK_THRESHOLD
custom_hooks, default_hooks, log_processor = open_vocab_runtime()
