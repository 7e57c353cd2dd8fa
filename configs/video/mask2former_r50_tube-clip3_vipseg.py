# Near-online tube queries on VIPSeg: the Mask2Former R50 recipe
# (configs/mask2former/mask2former_r50_40k_vipseg-panoptic.py) with each query attending
# to a clip of 3 frames and predicting a tube, clips linked by query matching; trained
# on clips (2 clips of 3 frames per GPU, the image recipe's iterations).
# --cfg-options model.clip_length=T test_dataloader.batch_sampler.clip_length=T
# runs the same weights with other clip lengths (T = 1: online).
#   python tools/train.py configs/video/mask2former_r50_tube-clip3_vipseg.py
_base_ = '../mask2former/mask2former_r50_40k_vipseg-panoptic.py'
from mmpanoptic.config_builders import tube_video_recipe  # noqa: E402

clip_length = 3
(model, train_pipeline, test_pipeline, train_dataloader, val_dataloader, test_dataloader,
 val_evaluator, test_evaluator) = tube_video_recipe('vipseg', {{_base_.model}}, clip_length)
