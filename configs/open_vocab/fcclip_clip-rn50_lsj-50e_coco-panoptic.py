# FC-CLIP (Yu et al., NeurIPS 2023) on CLIP RN50, trained on COCO panoptic
# (Mask2Former's LSJ recipe: 8 GPUs x 2 images, 1024 crops, 50 epochs).
# Mask2Former whose backbone is CLIP's frozen image tower and whose class layer
# is a text classifier on the same CLIP's text tower; at test time FC-CLIP's
# geometric ensemble with mask-pooled CLIP features (alpha 0.4 for seen
# classes, beta 0.8 for unseen).  The published models use ConvNeXt-L CLIP;
# this config uses the RN50 CLIP tower implemented here (CLIPResNet).
# Weights: OpenAI's RN50 CLIP (RN50.pt) or open_clip's RN50 'openai' weights,
# saved to clip_checkpoint below (nothing is downloaded at run time).
#   python tools/train.py configs/open_vocab/fcclip_clip-rn50_lsj-50e_coco-panoptic.py
# Zero-shot evaluation on other datasets: the *_zero-shot_*.py configs here.
_base_ = [
    '../_base_/models/mask2former_r50.py',
    '../_base_/datasets/coco_panoptic_lsj.py',
    '../_base_/schedules/mask2former_50e.py',
    '../_base_/default_runtime.py',
]
from mmpanoptic.config_builders import fcclip_model, open_vocab_runtime  # noqa: E402

clip_checkpoint = 'checkpoints/clip_rn50_openai.pt'
# The official inference: masked attention pooling of CLIP res5 (its ResNet
# path), no CLIP weight for masks empty at res5's resolution (its
# ENSEMBLE_ON_VALID_MASK, which the official code recommends for ResNet CLIPs).
model = fcclip_model(
    dict(type='CLIPResNet', model_name='RN50', checkpoint=clip_checkpoint, frozen=True),
    # OpenAI's CLIP models use QuickGELU.
    dict(type='CLIPTextEncoder', model_name='RN50', checkpoint=clip_checkpoint,
         act='quick_gelu'),
    [256, 512, 1024, 2048], clip_pooling='attention', ensemble_on_valid_mask=True)
custom_hooks, default_hooks, log_processor = open_vocab_runtime()
