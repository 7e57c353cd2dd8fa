# KITTI-STEP (19 Cityscapes classes; 2 things: car, person) for video panoptic
# models.  Convert the STEP PNGs once (docs/dataset_prepare.md):
#   python tools/dataset_converters/video_to_coco_panoptic.py step \
#       --gt data/kitti_step/panoptic_maps/train --images data/kitti_step/images/train \
#       --categories data/kitti_step/categories.json \
#       --out data/kitti_step/annotations/panoptic_train.json \
#       --png-dir data/kitti_step/annotations/panoptic_train
# (the same for val).  Frames are 375x1242; training uses 384x1248 crops of
# images jittered 0.5..2.0 as deeplab2's KITTI-STEP recipe.
dataset_type = 'VideoPanopticDataset'
data_root = 'data/kitti_step/'
crop_size = (384, 1248)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPanopticAnnotations'),
    dict(type='mmdet.RandomResize', scale=(1242, 375), ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='mmdet.RandomCrop', crop_size=crop_size, crop_type='absolute',
         recompute_bbox=True, allow_negative_crop=True),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='PackPanopticInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmdet.Resize', scale=(1242, 375), keep_ratio=True),
    dict(type='LoadPanopticAnnotations', with_bbox=False, with_mask=False,
         with_seg=False, with_panoptic=True),
    dict(type='PackPanopticInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                    'video_id', 'frame_id')),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/panoptic_train.json',
        data_prefix=dict(img='images/train/', seg='annotations/panoptic_train/'),
        filter_cfg=dict(filter_empty_gt=False),
        pipeline=train_pipeline))
# Tracking needs the frames of a video in order, in one process.
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    drop_last=False,
    # whole videos per process, frames in order (trackers and the video metric need it)
    sampler=dict(type='VideoSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/panoptic_val.json',
        data_prefix=dict(img='images/val/', seg='annotations/panoptic_val/'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# STEP is scored with STQ; VPQ over windows of 1..4 frames is reported too.
val_evaluator = dict(type='VideoPanopticMetric')
test_evaluator = val_evaluator
