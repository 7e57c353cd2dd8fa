# A video model = the toy Mask2Former + the online tracker, on the toy videos.
#   python tools/dataset_converters/make_toy_video.py --out data/toy_video
#   python tools/train.py configs/video/mask2former_r18_online-tracker_toy-video.py
# Training trains the image model on the frames; testing tracks ids over time
# and reports VPQ (windows of 1..4 frames) and STQ next to per-frame PQ.
# Toy videos: 128x128 frames, 10 per video, the toy classes; things move,
# occlude each other, leave and re-enter the frame; segment ids are track ids.
_base_ = '../mask2former/mask2former_r18_toy.py'

model = dict(
    _delete_=True,
    type='VideoPanopticSegmentor',
    detector={{_base_.model}},
    tracker=dict(type='OnlineMaskTracker', iou_thr=0.2, max_age=5, warp=True))

# The toy data settings of the base, on the video files; the test pipeline
# also packs video_id / frame_id.  Frames come in (video, frame) order from a
# non-shuffled loader in one process, so the tracker sees each video in order.
dataset_type = 'VideoPanopticDataset'
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmdet.Resize', scale=(128, 128), keep_ratio=True),
    dict(type='LoadPanopticAnnotations', with_bbox=False, with_mask=False,
         with_seg=False, with_panoptic=True),
    dict(type='PackPanopticInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                    'video_id', 'frame_id')),
]
train_dataloader = dict(dataset=dict(
    type=dataset_type,
    data_root='data/toy_video/',
    ann_file='annotations/panoptic_train.json',
    data_prefix=dict(img='train/', seg='annotations/panoptic_train/')))
val_dataloader = dict(
    # whole videos per process, frames in order (the tracker and the video metric need it)
    sampler=dict(_delete_=True, type='VideoSampler'),
    dataset=dict(
        type=dataset_type,
        data_root='data/toy_video/',
        ann_file='annotations/panoptic_val.json',
        data_prefix=dict(img='val/', seg='annotations/panoptic_val/'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [dict(type='VideoPanopticMetric'), dict(type='PanopticQualityMetric')]
test_evaluator = val_evaluator
