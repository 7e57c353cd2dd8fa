# VIPSeg (Miao et al., CVPR 2022): 124 classes (58 things, 66 stuff), 720p.
# After VIPSeg's own change2_720p.py and create_panoptic_video_labels.py,
# flatten its per-video JSON once:
#   python tools/dataset_converters/video_to_coco_panoptic.py vipseg \
#       --ann data/VIPSeg_720P/panoptic_gt_VIPSeg_train.json \
#       --out data/VIPSeg_720P/panoptic_train_video.json
# (the same for val).
dataset_type = 'VideoPanopticDataset'
data_root = 'data/VIPSeg_720P/'

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPanopticAnnotations'),
    dict(type='mmdet.RandomResize', scale=(1280, 720), ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='mmdet.RandomCrop', crop_size=(720, 720), crop_type='absolute',
         recompute_bbox=True, allow_negative_crop=True),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='PackPanopticInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmdet.Resize', scale=(1280, 720), keep_ratio=True),
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
        ann_file='panoptic_train_video.json',
        data_prefix=dict(img='images/', seg='panomasksRGB/'),
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
        ann_file='panoptic_val_video.json',
        data_prefix=dict(img='images/', seg='panomasksRGB/'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='VideoPanopticMetric')
test_evaluator = val_evaluator
