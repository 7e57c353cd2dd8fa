# VidEoMT on the toy videos: the toy EoMT (configs/eomt/eomt_vit-t_toy.py)
# whose query tokens for frame t are its learned queries plus a linear map of
# frame t-1's output query tokens; the query index is the track, no tracker
# network (QueryPropagationTracker with refresh_interval=None only carries
# the queries and names the ids).  Trained on (reference, key) frame pairs of
# one video (VideoPairSampler, key 1..2 frames later): the key frame starts
# from the reference frame's propagated queries.
#   python tools/dataset_converters/make_toy_video.py --out data/toy_video
#   python tools/train.py configs/video/videomt_vit-t_toy-video.py
_base_ = '../eomt/eomt_vit-t_toy.py'
from mmpanoptic.config_builders import toy_video_data  # noqa: E402

model = dict(
    _delete_=True,
    type='VideoPanopticSegmentor',
    detector=dict(type='VidEoMT', image_model={{_base_.model}}),
    train_propagation=True,
    tracker=dict(type='QueryPropagationTracker', refresh_interval=None))

(dataset_type, test_pipeline, train_dataloader, val_dataloader, test_dataloader,
 val_evaluator, test_evaluator) = toy_video_data({{_base_.train_pipeline}})
# batch_size 4 = 2 pairs per step.
train_dataloader['sampler'] = dict(type='VideoPairSampler', max_gap=2)
