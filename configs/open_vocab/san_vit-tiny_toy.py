# SAN's architecture on the bundled toy data (CPU): a small CLIP-layout ViT
# (transformers' CLIPVisionModelWithProjection, random weights, frozen as
# SAN freezes CLIP: 6 layers, the first 4 give features, the last 2
# recognise), the side adapter (a 64-wide, 4-block ViT with 20 queries) and
# a text classifier on the frozen MiniLM sentence encoder (the toy's classes;
# a random CLIP has no text space worth using).  It checks that the side
# adapter's masks and attention biases learn; open-vocabulary recognition
# needs real CLIP weights (configs/open_vocab/san_clip-vit-b16_coco-panoptic.py).
#   python tools/dataset_converters/make_toy_panoptic.py --out data/toy
#   python tools/train.py configs/open_vocab/san_vit-tiny_toy.py
_base_ = '../mask2former/mask2former_r18_toy.py'
from mmpanoptic.config_builders import no_decay, toy_text_classifier  # noqa: E402

model = dict(
    type='SAN',
    # CLIP's normalisation (RGB)
    data_preprocessor=dict(mean=[122.7709383, 116.7460125, 104.09373615],
                           std=[68.5005327, 66.6321579, 70.32316305]),
    backbone=dict(
        _delete_=True, type='CLIPViT',
        config=dict(hidden_size=64, intermediate_size=256, num_hidden_layers=6,
                    num_attention_heads=4, image_size=64, patch_size=8, projection_dim=64),
        last_layer=4, resolution=0.5),
    panoptic_head=dict(
        _delete_=True, type='SideAdapterHead',
        num_queries=20, embed_dims=64, num_heads=4, depth=4, patch_size=8, img_size=128,
        fusion_map={0: 0, 2: 1, 4: 2}, deep_supervision=(3, 4), bias_layers=1,
        decoder_dims=64, decoder_layers=3, classifier=toy_text_classifier()))
custom_hooks = [dict(type='TextVocabularyHook')]
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=no_decay(
    'query_embed', 'pos_embed', 'logit_scale', 'void_embedding')))
