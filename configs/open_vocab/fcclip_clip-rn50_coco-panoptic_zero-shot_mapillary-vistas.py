# Zero-shot panoptic evaluation of the COCO-trained FC-CLIP on Mapillary Vistas v1.2 (65 classes)
# (longer side 2048).  Mapillary ships COCO panoptic json + PNGs: no
# conversion needed (docs/dataset_prepare.md).
#   python tools/test.py \
#       configs/open_vocab/fcclip_clip-rn50_coco-panoptic_zero-shot_mapillary-vistas.py CKPT
_base_ = ['./fcclip_clip-rn50_lsj-50e_coco-panoptic.py']
from mmpanoptic.config_builders import test_pipeline, tta_pipeline  # noqa: E402

data_root = 'data/mapillary/'
test_scale = (2048, 2048)
test_pipeline = test_pipeline(test_scale)
# --tta: this dataset's test scale first, then x0.75 / x1.25, with and without flip.
tta_pipeline = tta_pipeline(test_scale)
# Loader settings (batch 1, sampler, metric) are the COCO config's; only the
# data changes.
test_dataloader = dict(dataset=dict(
    type='CocoPanopticDataset',
    data_root=data_root,
    ann_file='validation/v1.2/panoptic/panoptic_2018.json',
    data_prefix=dict(img='validation/images/', seg='validation/v1.2/panoptic/'),
    pipeline=test_pipeline))
# Mapillary's 65 names, checked against the dataset's label order.
custom_hooks = [
    dict(type='TextVocabularyHook', vocabularies=dict(test='mapillary_vistas')),
    dict(type='PanopticVisualizationHook', max_images=8),
]
