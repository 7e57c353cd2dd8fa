# Mask2Former R50 (the Cityscapes panoptic recipe) + the online tracker with
# colour-histogram appearance, on Cityscapes-VPS.  Frames are the annotated
# ones (every 5th), so tracks bridge 5-frame gaps: IoU after box-motion
# warping plus appearance.  VPQ^0/5/10/15 = windows of 1/2/3/4 annotated frames.
_base_ = '../mask2former/mask2former_r50_90k_cityscapes-panoptic.py'

model = dict(
    _delete_=True,
    type='VideoPanopticSegmentor',
    detector={{_base_.model}},
    tracker=dict(type='OnlineMaskTracker', iou_thr=0.2, max_age=2, warp=True,
                 appearance_weight=0.5),
    appearance='color')

dataset_type = 'VideoPanopticDataset'
data_root = 'data/cityscapes_vps/'
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmdet.Resize', scale=(2048, 1024), keep_ratio=True),
    dict(type='LoadPanopticAnnotations', with_bbox=False, with_mask=False,
         with_seg=False, with_panoptic=True),
    dict(type='PackPanopticInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                    'video_id', 'frame_id')),
]
train_dataloader = dict(dataset=dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='train/panoptic_train_video.json',
    data_prefix=dict(img='train/img/', seg='train/panoptic_video/')))
# Tracking needs the frames of a video in order, in one process.
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    # whole videos per process, frames in order (the tracker and the video metric need it)
    sampler=dict(_delete_=True, type='VideoSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='val/panoptic_val_video.json',
        data_prefix=dict(img='val/img/', seg='val/panoptic_video/'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [dict(type='VideoPanopticMetric'), dict(type='PanopticQualityMetric')]
test_evaluator = val_evaluator
