# Mask2Former R50 on Mapillary Vistas v2.0 panoptic (124 classes: 70 things,
# 54 stuff and void-like classes, as flagged in panoptic_2020.json), with the
# v1.2 recipe.  The class counts must match the JSON's isthing flags
# (tools/train.py checks them against the annotation file before training).
_base_ = './mask2former_r50_300k_mapillary-panoptic.py'
num_things_classes = 70
num_stuff_classes = 54
model = dict(num_things_classes=num_things_classes, num_stuff_classes=num_stuff_classes)
train_dataloader = dict(dataset=dict(
    ann_file='training/v2.0/panoptic/panoptic_2020.json',
    data_prefix=dict(img='training/images/', seg='training/v2.0/panoptic/')))
val_dataloader = dict(dataset=dict(
    ann_file='validation/v2.0/panoptic/panoptic_2020.json',
    data_prefix=dict(img='validation/images/', seg='validation/v2.0/panoptic/')))
test_dataloader = val_dataloader
