# Zero-shot semantic segmentation (mIoU) of the COCO-trained FC-CLIP ConvNeXt-L on
# pascal-context-59 (the fusion's semantic map; every class stuff).  Data: the
# benchmark's semantic label maps converted with
# tools/dataset_converters/semantic_to_coco_panoptic.py --vocabulary pascal_context_59.
#   python tools/test.py \
#       configs/open_vocab/fcclip_clip-convnext-l_coco-panoptic_zero-shot_pascal-context-59.py CKPT
_base_ = ['./fcclip_clip-convnext-l_lsj-50e_coco-panoptic.py']
from mmpanoptic.config_builders import zero_shot_semantic  # noqa: E402

model = dict(fusion=dict(semantic_on=True))
(data_root, test_scale, test_pipeline, tta_pipeline, test_dataloader, test_evaluator,
 custom_hooks) = zero_shot_semantic('pascal_context_59')
