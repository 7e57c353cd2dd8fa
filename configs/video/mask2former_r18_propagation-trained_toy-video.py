# The toy Mask2Former trained the way the query tracker uses it: batches of
# (reference, key) frame pairs of one video (VideoPairSampler, key 1..2
# frames later); the key frame's decoder starts from the reference frame's
# output queries.  Tested with query propagation and a fresh detection every
# 3rd frame.  Compare with mask2former_r18_query-tracker_toy-video.py, whose
# image model is trained on single frames (docs/video.md).
#   python tools/train.py configs/video/mask2former_r18_propagation-trained_toy-video.py
_base_ = '../mask2former/mask2former_r18_toy.py'
from mmpanoptic.config_builders import toy_video_data  # noqa: E402

model = dict(
    _delete_=True,
    type='VideoPanopticSegmentor',
    detector={{_base_.model}},
    train_propagation=True,
    tracker=dict(type='QueryPropagationTracker', refresh_interval=3, sim_thr=0.5,
                 max_age=5))

# The toy data settings of the base, on the toy video files (make_toy_video.py);
# evaluation gets whole videos, frames in order, in one process.
(dataset_type, test_pipeline, train_dataloader, val_dataloader, test_dataloader,
 val_evaluator, test_evaluator) = toy_video_data({{_base_.train_pipeline}})
# batch_size 4 = 2 pairs per step.
train_dataloader['sampler'] = dict(type='VideoPairSampler', max_gap=2)
