# Open-vocabulary video: the toy video model (Mask2Former + online tracker,
# configs/video/mask2former_r18_online-tracker_toy-video.py) whose class layer
# is a TextEmbeddingClassifier on the frozen all-MiniLM-L6-v2 sentence
# encoder (as configs/open_vocab/), so any class named in text is segmented
# and tracked with consistent ids; the vocabulary switches without retraining:
#   python tools/demo/video_demo.py FRAMES \
#       configs/video/mask2former_r18_text-minilm_online-tracker_toy-video.py \
#       CKPT --out OUT --classes "ellipse,box,triangle,ring,sky,grass,water,sand" \
#       --things "ellipse,box,triangle,ring"
# Trained on the toy videos' classes (TextVocabularyHook gives the model each
# dataset's class names).
#   python tools/dataset_converters/make_toy_video.py --out data/toy_video
#   python tools/train.py configs/video/mask2former_r18_text-minilm_online-tracker_toy-video.py
_base_ = '../mask2former/mask2former_r18_toy.py'
from mmpanoptic.config_builders import toy_video_data  # noqa: E402

model = dict(
    _delete_=True,
    type='VideoPanopticSegmentor',
    detector={{_base_.model}},
    detector_changes=dict(panoptic_head=dict(classifier=dict(
        type='TextEmbeddingClassifier',
        text_encoder=dict(type='SentenceTransformerTextEncoder'),  # 384-d, offline
        # the toy videos' classes, things first (TextVocabularyHook sets each
        # dataset's own list before training and testing)
        vocabulary=['ellipse', 'box', 'triangle', 'ring', 'sky', 'grass', 'water', 'sand'],
        templates='none',
        init_temperature=0.01))),
    tracker=dict(type='OnlineMaskTracker', iou_thr=0.2, max_age=5, warp=True))

(dataset_type, test_pipeline, train_dataloader, val_dataloader, test_dataloader,
 val_evaluator, test_evaluator) = toy_video_data({{_base_.train_pipeline}})

# The temperature and the void embedding are not weight-decayed.
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=dict(
    logit_scale=dict(decay_mult=0.0), void_embedding=dict(decay_mult=0.0))))
custom_hooks = [dict(type='TextVocabularyHook')]
