# Zero-shot panoptic evaluation of the COCO-trained FC-CLIP on Cityscapes (19 classes)
# (full 1024x2048 images).  Needs the Cityscapes panoptic
# conversion of docs/dataset_prepare.md.
#   python tools/test.py \
#       configs/open_vocab/fcclip_clip-rn50_coco-panoptic_zero-shot_cityscapes.py CKPT
_base_ = ['./fcclip_clip-rn50_lsj-50e_coco-panoptic.py']
from mmpanoptic.config_builders import test_pipeline, tta_pipeline  # noqa: E402

data_root = 'data/cityscapes/'
test_scale = (2048, 1024)
test_pipeline = test_pipeline(test_scale)
# --tta: this dataset's test scale first, then x0.75 / x1.25, with and without flip.
tta_pipeline = tta_pipeline(test_scale)
# Loader settings (batch 1, sampler, metric) are the COCO config's; only the
# data changes.
test_dataloader = dict(dataset=dict(
    type='CityscapesPanopticDataset',
    data_root=data_root,
    ann_file='gtFine/cityscapes_panoptic_val.json',
    data_prefix=dict(img='leftImg8bit/val/', seg='gtFine/cityscapes_panoptic_val/'),
    pipeline=test_pipeline))
# Cityscapes' 19 names, checked against the dataset's label order.
custom_hooks = [
    dict(type='TextVocabularyHook', vocabularies=dict(test='cityscapes')),
    dict(type='PanopticVisualizationHook', max_images=8),
]
