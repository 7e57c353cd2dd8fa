# DETR's second stage: the detector of detr_r50_coco-panoptic.py frozen, the
# mask head trained for 25 epochs (learning rate / 10 after 20).
#   python tools/train.py configs/detr/detr_r50_mask-head_coco-panoptic.py \
#       --cfg-options load_from=work_dirs/detr_r50_coco-panoptic/epoch_500.pth
_base_ = ['./detr_r50_coco-panoptic.py']

model = dict(frozen_detector=True)
max_epochs = 25
param_scheduler = dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
                       milestones=[20], gamma=0.1)
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=5)
