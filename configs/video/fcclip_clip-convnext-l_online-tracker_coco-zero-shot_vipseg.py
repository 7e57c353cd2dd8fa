# Zero-shot open-vocabulary video panoptic segmentation on
# VIPSeg (124 classes; OV-DVIS++'s zero-shot benchmark: VPQ 28.9 online with
# its ConvNeXt-L, trained on COCO only):
# the COCO-trained FC-CLIP ConvNeXt-L
# (configs/open_vocab/fcclip_clip-convnext-l_lsj-50e_coco-panoptic.py, never
# trained on this dataset) + the online mask tracker; the dataset's class
# names come from the bundled vocabulary, the ids from the tracker.
#   python tools/test.py \
#       configs/video/fcclip_clip-convnext-l_online-tracker_coco-zero-shot_vipseg.py CKPT
# (CKPT: the FC-CLIP config's image checkpoint loads into the video model
# as it is).
# Differs from OV-DVIS++ on purpose: the tracker is our online mask tracker,
# not DVIS++'s trained referring tracker (that model:
# ov-dvis_fcclip_clip-convnext-l_coco-pseudo-video_zero-shot_vipseg.py).
_base_ = '../open_vocab/fcclip_clip-convnext-l_lsj-50e_coco-panoptic.py'
from mmpanoptic.config_builders import zero_shot_video  # noqa: E402

# Validation / test: whole videos of the dataset with its vocabulary; the
# training loader stays COCO's (the image model's training).
(model, test_pipeline, tta_pipeline, val_dataloader, test_dataloader, val_evaluator,
 custom_hooks) = zero_shot_video('vipseg', {{_base_.model}},
                                 tracker=dict(type='OnlineMaskTracker',
                                              iou_thr=0.2, max_age=5, warp=True))
test_evaluator = val_evaluator
