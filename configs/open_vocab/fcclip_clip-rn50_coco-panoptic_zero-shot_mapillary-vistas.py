# Zero-shot panoptic evaluation of the COCO-trained FC-CLIP on Mapillary Vistas v1.2 (65 classes)
# (longer side 2048).  Mapillary ships COCO panoptic json + PNGs: no
# conversion needed (docs/dataset_prepare.md).
#   python tools/test.py \
#       configs/open_vocab/fcclip_clip-rn50_coco-panoptic_zero-shot_mapillary-vistas.py CKPT
_base_ = ['./fcclip_clip-rn50_lsj-50e_coco-panoptic.py']
from mmpanoptic.config_builders import zero_shot_panoptic  # noqa: E402

# Test scale (2048, 2048) (FC-CLIP's official: shorter side 1024, longer at most 2560,
# the ConvNeXt config's).
# The data, this dataset's bundled vocabulary (TextVocabularyHook) and --tta
# views (the test scale first, then x0.75 / x1.25, with and without flip);
# the loader settings (batch 1, sampler, metric) are the COCO config's.
(data_root, test_scale, test_pipeline, tta_pipeline, test_dataloader,
 custom_hooks) = zero_shot_panoptic('mapillary_vistas', test_scale=(2048, 2048))
