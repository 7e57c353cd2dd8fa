# OV-DVIS++ on toy data: open-vocabulary video with a learned tracker that
# never sees a video.  The open-vocabulary toy Mask2Former (a text classifier
# on the frozen MiniLM encoder, trained on the 12 base classes' images:
# configs/open_vocab/mask2former_r18_text-minilm_toy-open-vocab.py), frozen,
# + DVIS's referring tracker classifying in the same text space, trained on
# pseudo videos of the same base-class images (each image 5 times, every copy
# randomly rescaled and cropped on its own; OV-DVIS++'s COCO recipe), then
# evaluated on toy videos of all 16 classes, base and novel apart
# (docs/open_vocabulary.md):
#   python tools/dataset_converters/make_toy_panoptic.py --open-vocab \
#       --out data/toy_open_vocab --num-train 2000 --num-val 1
#   python tools/dataset_converters/make_toy_video.py --open-vocab \
#       --out data/toy_open_vocab_video --num-train 0 --num-val 8
#   python tools/train.py \
#       configs/video/mask2former_r18_text-minilm_online-tracker_toy-open-vocab-video.py
#   python tools/train.py configs/video/dvis_mask2former_r18_text-minilm_toy-open-vocab-video.py
# (load_from below: that training's last checkpoint).
# The tracker settings are the toy DVIS's (dvis_mask2former_r18_toy-video.py).
_base_ = '../mask2former/mask2former_r18_toy.py'
from mmpanoptic.config_builders import (  # noqa: E402
    pseudo_video_clips,
    toy_dvis_model,
    toy_dvis_schedule,
    toy_open_vocab_detector,
    toy_video_data,
    train_pipeline,
)
from mmpanoptic.datasets.toy_open_vocab import BASE_THINGS, NOVEL  # noqa: E402

base_things = list(BASE_THINGS)
novel_things = list(NOVEL)
stuff = ['sky', 'grass', 'water', 'sand']

model = toy_dvis_model({{_base_.model}},
                       detector_changes=toy_open_vocab_detector(base_things + stuff,
                                                                len(base_things)))

# Evaluation: the open-vocabulary toy videos, VPQ / STQ on base and novel
# classes apart.
(dataset_type, test_pipeline, video_train_dataloader, val_dataloader, test_dataloader,
 val_evaluator, test_evaluator) = toy_video_data(
    {{_base_.train_pipeline}}, data_root='data/toy_open_vocab_video/')
del video_train_dataloader
groups = dict(base=base_things, novel=novel_things)
val_evaluator = [dict(type='VideoPanopticMetric', class_groups=groups),
                 dict(type='PanopticQualityMetric', class_groups=groups)]
test_evaluator = val_evaluator
# Training: 2 pseudo-video clips of 5 copies of a base-class image per step.
train_pipeline, train_dataloader = pseudo_video_clips(
    train_pipeline(dict(type='mmdet.RandomResize', scale=(128, 128), ratio_range=(0.8, 1.25),
                        keep_ratio=True), crop_size=(128, 128)),
    clip_length=5, clips_per_batch=2)
train_dataloader['dataset'].update(data_root='data/toy_open_vocab/')
custom_hooks = [dict(type='TextVocabularyHook')]

load_from = ('work_dirs/mask2former_r18_text-minilm_online-tracker_toy-open-vocab-video/'
             'iter_2000.pth')
max_iters = 600
train_cfg, optim_wrapper, param_scheduler, default_hooks = toy_dvis_schedule(max_iters)
