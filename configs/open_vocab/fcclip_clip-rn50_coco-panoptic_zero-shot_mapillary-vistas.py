# Zero-shot panoptic evaluation of the COCO-trained FC-CLIP on Mapillary Vistas v1.2 (65 classes)
# (longer side 2048).  Mapillary ships COCO panoptic json + PNGs: no
# conversion needed (docs/dataset_prepare.md).
#   python tools/test.py \
#       configs/open_vocab/fcclip_clip-rn50_coco-panoptic_zero-shot_mapillary-vistas.py CKPT
_base_ = ['./fcclip_clip-rn50_lsj-50e_coco-panoptic.py']

data_root = 'data/mapillary/'
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmdet.Resize', scale=(2048, 2048), keep_ratio=True),
    dict(type='LoadPanopticAnnotations', with_bbox=False, with_mask=False,
         with_seg=False, with_panoptic=True),
    dict(type='PackPanopticInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
# --tta: this dataset's test scale first, then x0.75 / x1.25, with and without flip.
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TestTimeAug',
         transforms=[
             [dict(type='mmdet.Resize', scale=(2048, 2048), keep_ratio=True),
             dict(type='mmdet.Resize', scale=(1536, 1536), keep_ratio=True),
             dict(type='mmdet.Resize', scale=(2560, 2560), keep_ratio=True)],
             [dict(type='mmdet.RandomFlip', prob=0.), dict(type='mmdet.RandomFlip', prob=1.)],
             [dict(type='LoadPanopticAnnotations', with_bbox=False, with_mask=False,
                   with_seg=False, with_panoptic=True)],
             [dict(type='PackPanopticInputs',
                   meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                              'flip', 'flip_direction'))],
         ])
]
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
