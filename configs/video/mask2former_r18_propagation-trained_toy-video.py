# The toy Mask2Former trained the way the query tracker uses it: batches of
# (reference, key) frame pairs of one video (VideoPairSampler, key 1..2
# frames later); the key frame's decoder starts from the reference frame's
# output queries.  Tested with query propagation and a fresh detection every
# 3rd frame.  Compare with mask2former_r18_query-tracker_toy-video.py, whose
# image model is trained on single frames (docs/video.md).
#   python tools/train.py configs/video/mask2former_r18_propagation-trained_toy-video.py
_base_ = './mask2former_r18_online-tracker_toy-video.py'
model = dict(
    train_propagation=True,
    tracker=dict(_delete_=True, type='QueryPropagationTracker', refresh_interval=3,
                 sim_thr=0.5, max_age=5))
# batch_size 4 (the base's) = 2 pairs per step.
train_dataloader = dict(sampler=dict(_delete_=True, type='VideoPairSampler', max_gap=2))
