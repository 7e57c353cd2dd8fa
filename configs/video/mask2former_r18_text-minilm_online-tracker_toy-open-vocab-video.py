# Open-vocabulary video on toy data: the open-vocabulary toy Mask2Former
# (as configs/open_vocab/mask2former_r18_text-minilm_toy-open-vocab.py: a
# TextEmbeddingClassifier on the frozen all-MiniLM-L6-v2 encoder, trained on
# the 12 base "colour pattern" classes' images) + the online mask tracker,
# evaluated on videos of all 16 classes (the 4 novel ones never seen in
# training, named only in text at test time), VPQ / STQ on base and novel
# classes apart (docs/open_vocabulary.md):
#   python tools/dataset_converters/make_toy_panoptic.py --open-vocab \
#       --out data/toy_open_vocab --num-train 2000 --num-val 1
#   python tools/dataset_converters/make_toy_video.py --open-vocab \
#       --out data/toy_open_vocab_video --num-train 0 --num-val 8
#   CONFIG=configs/video/mask2former_r18_text-minilm_online-tracker_toy-open-vocab-video.py
#   python tools/train.py $CONFIG
#   python tools/test.py $CONFIG CKPT
# Training is the image model's (on the base-class images); a trained
# checkpoint of the image config loads into it as it is.
_base_ = '../mask2former/mask2former_r18_toy.py'
from mmpanoptic.config_builders import toy_open_vocab_detector, toy_video_data  # noqa: E402
from mmpanoptic.datasets.toy_open_vocab import BASE_THINGS, NOVEL  # noqa: E402

base_things = list(BASE_THINGS)
novel_things = list(NOVEL)
stuff = ['sky', 'grass', 'water', 'sand']

model = dict(
    _delete_=True,
    type='VideoPanopticSegmentor',
    detector={{_base_.model}},
    # the toy text classifier (MiniLM, 384-d, offline) trained on the base
    # classes; TextVocabularyHook switches to each dataset's own class list
    # (all 20 for the validation videos)
    detector_changes=toy_open_vocab_detector(base_things + stuff, len(base_things)),
    tracker=dict(type='OnlineMaskTracker', iou_thr=0.2, max_age=5, warp=True))

# Evaluation on the open-vocabulary toy videos; training on the base-class
# images (data/toy_open_vocab).
(dataset_type, test_pipeline, video_train_dataloader, val_dataloader, test_dataloader,
 val_evaluator, test_evaluator) = toy_video_data(
    {{_base_.train_pipeline}}, data_root='data/toy_open_vocab_video/')
del video_train_dataloader
train_dataloader = dict(dataset=dict(data_root='data/toy_open_vocab/'))
groups = dict(base=base_things, novel=novel_things)
val_evaluator = [dict(type='VideoPanopticMetric', class_groups=groups),
                 dict(type='PanopticQualityMetric', class_groups=groups)]
test_evaluator = val_evaluator

# The temperature and the void embedding are not weight-decayed.
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=dict(
    logit_scale=dict(decay_mult=0.0), void_embedding=dict(decay_mult=0.0))))
custom_hooks = [dict(type='TextVocabularyHook')]
