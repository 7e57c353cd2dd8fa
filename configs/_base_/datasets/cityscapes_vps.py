# Cityscapes-VPS (Kim et al., CVPR 2020): 19 classes, 8 things; every 5th of
# 30 frames annotated, VPQ over windows of 1..4 annotated frames (VPQ^0, 5,
# 10, 15).  Add video / frame ids to the published JSON once:
#   python tools/dataset_converters/video_to_coco_panoptic.py cityscapes-vps \
#       --ann data/cityscapes_vps/val/panoptic_gt_val_city_vps.json \
#       --out data/cityscapes_vps/val/panoptic_val_video.json
# (the same for train).
dataset_type = 'VideoPanopticDataset'
data_root = 'data/cityscapes_vps/'
crop_size = (512, 1024)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPanopticAnnotations'),
    dict(type='mmdet.RandomResize', scale=(2048, 1024), ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='mmdet.RandomCrop', crop_size=crop_size, crop_type='absolute',
         recompute_bbox=True, allow_negative_crop=True),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='PackPanopticInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmdet.Resize', scale=(2048, 1024), keep_ratio=True),
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
        ann_file='train/panoptic_train_video.json',
        data_prefix=dict(img='train/img/', seg='train/panoptic_video/'),
        filter_cfg=dict(filter_empty_gt=False),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    drop_last=False,
    # whole videos per process, frames in order (trackers and the video metric need it)
    sampler=dict(type='VideoSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='val/panoptic_val_video.json',
        data_prefix=dict(img='val/img/', seg='val/panoptic_video/'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='VideoPanopticMetric')
test_evaluator = val_evaluator
