# Zero-shot panoptic (and semantic: the fusion's semantic output) evaluation
# of the COCO-trained SAN on ADE20K-150 (shorter side 640).
#   python tools/test.py \
#       configs/open_vocab/san_clip-vit-b16_coco-panoptic_zero-shot_ade20k.py CKPT
_base_ = ['./san_clip-vit-b16_coco-panoptic.py']
from mmpanoptic.config_builders import zero_shot_panoptic  # noqa: E402

(data_root, test_scale, test_pipeline, tta_pipeline, test_dataloader,
 custom_hooks) = zero_shot_panoptic('ade20k')
