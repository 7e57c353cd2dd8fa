# Zero-shot panoptic evaluation of the COCO-trained FC-CLIP ConvNeXt-L on
# Mapillary Vistas v1.2 (65 classes; shorter side 1024, longer at most 2560).
# Needs the conversion of docs/dataset_prepare.md.
#   python tools/test.py \
#       configs/open_vocab/fcclip_clip-convnext-l_coco-panoptic_zero-shot_mapillary-vistas.py CKPT
_base_ = ['./fcclip_clip-convnext-l_lsj-50e_coco-panoptic.py']
from mmpanoptic.config_builders import zero_shot_panoptic  # noqa: E402

# The data, FC-CLIP's test scale, this dataset's bundled vocabulary
# (TextVocabularyHook) and --tta views; the loader settings (batch 1,
# sampler, metric) are the COCO config's.
(data_root, test_scale, test_pipeline, tta_pipeline, test_dataloader,
 custom_hooks) = zero_shot_panoptic('mapillary_vistas')
