# SAN as published: trained on COCO-Stuff-164K's 171 classes for semantic
# segmentation (configs/san_clip_vit_res4_coco.yaml of MendelXu/SAN: 60k
# iterations of 32 crops of 640 px, AdamW 1e-4, weight decay 1e-4, shorter
# sides 320..960, SSD colour jitter, flip; mIoU at a shorter side of 640),
# CLIP's fixed logit scale 100 and a learned background embedding.  The
# architecture is san_clip-vit-b16_coco-panoptic.py's; its checkpoint loads
# into the zero-shot configs beside it (the vocabulary comes from each
# dataset; the class layer has no per-class weights).
# Data: the detectron2 label maps of prepare_coco_stuff_164k_sem_seg.py
# (0..170, 255 ignored) converted to COCO panoptic, every class stuff:
#   for split in train2017 val2017; do
#   python tools/dataset_converters/semantic_to_coco_panoptic.py \
#       --semantic-dir data/coco/stuffthingmaps_detectron2/$split \
#       --vocabulary coco_stuff_171 --out-json data/coco/annotations/stuff171_$split.json \
#       --out-png-dir data/coco/annotations/stuff171_$split; done
#   python tools/train.py configs/open_vocab/san_clip-vit-b16_coco-stuff-171.py
# Differs from the official recipe: mmpanoptic's shared mask-classification
# losses and fusion (semantic map: softmax class x sigmoid mask, as SAN).
_base_ = ['./san_clip-vit-b16_coco-panoptic.py']
from mmpanoptic.config_builders import (  # noqa: E402
    split,
    test_pipeline,
    train_pipeline,
    tta_pipeline,
)

model = dict(
    num_things_classes=0,
    num_stuff_classes=171,
    panoptic_head=dict(classifier=dict(vocabulary='coco_stuff_171',
                                       learn_temperature=False)),  # CLIP's scale 100
    fusion=dict(semantic_on=True))

# SAN's MIN_SIZE_TRAIN: int(x * 0.1 * 640) for x in 5..15, longer side <= 2560
train_pipeline = train_pipeline(
    dict(type='mmdet.RandomChoiceResize', scales=[(2560, 64 * x) for x in range(5, 16)],
         keep_ratio=True),
    crop_size=(640, 640))
train_pipeline.insert(-1, dict(type='mmdet.PhotoMetricDistortion'))  # COLOR_AUG_SSD
test_pipeline = test_pipeline((2560, 640))
tta_pipeline = tta_pipeline((2560, 640))
train_split = split('annotations/stuff171_train2017.json', 'train2017/',
                    'annotations/stuff171_train2017/')
val_split = split('annotations/stuff171_val2017.json', 'val2017/',
                  'annotations/stuff171_val2017/')
train_dataloader = dict(dataset=dict(
    ann_file=train_split['ann_file'], data_prefix=dict(img=train_split['img'],
                                                       seg=train_split['seg']),
    pipeline=train_pipeline,
    filter_cfg=dict(filter_empty_gt=False)))  # every class is stuff: keep every image
val_dataloader = dict(dataset=dict(
    ann_file=val_split['ann_file'], data_prefix=dict(img=val_split['img'],
                                                     seg=val_split['seg']),
    pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [dict(type='SemanticIoUMetric')]
test_evaluator = val_evaluator
