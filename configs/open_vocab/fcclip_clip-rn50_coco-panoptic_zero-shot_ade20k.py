# Zero-shot panoptic evaluation of the COCO-trained FC-CLIP on ADE20K-150
# (FC-CLIP's protocol: shorter side 640).  Needs the ADE20K panoptic
# conversion of docs/dataset_prepare.md.
#   python tools/test.py \
#       configs/open_vocab/fcclip_clip-rn50_coco-panoptic_zero-shot_ade20k.py CKPT
_base_ = ['./fcclip_clip-rn50_lsj-50e_coco-panoptic.py']
from mmpanoptic.config_builders import test_pipeline, tta_pipeline  # noqa: E402

data_root = 'data/ade/ADEChallengeData2016/'
test_scale = (2560, 640)
test_pipeline = test_pipeline(test_scale)
# --tta: this dataset's test scale first, then x0.75 / x1.25, with and without flip.
tta_pipeline = tta_pipeline(test_scale)
# Loader settings (batch 1, sampler, metric) are the COCO config's; only the
# data changes.
test_dataloader = dict(dataset=dict(
    type='ADE20KPanopticDataset',
    data_root=data_root,
    ann_file='ade20k_panoptic_val.json',
    data_prefix=dict(img='images/validation/', seg='ade20k_panoptic_val/'),
    pipeline=test_pipeline))
# ADE20K's names with their synonyms ("sofa, couch, lounge"), in label order.
custom_hooks = [
    dict(type='TextVocabularyHook', vocabularies=dict(test='ade20k_150')),
    dict(type='PanopticVisualizationHook', max_images=8),
]
