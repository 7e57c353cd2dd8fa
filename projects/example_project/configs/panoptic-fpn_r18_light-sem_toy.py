# Panoptic FPN on the toy data with a semantic head registered by this project.
_base_ = ['../../../configs/panoptic_fpn/panoptic-fpn_r18_fpn_toy.py']

custom_imports = dict(imports=['projects.example_project.example_project'],
                      allow_failed_imports=False)

model = dict(
    semantic_head=dict(
        _delete_=True,
        type='LightSemanticHead',
        num_things_classes={{_base_.num_things_classes}},
        num_stuff_classes={{_base_.num_stuff_classes}},
        in_channels={{_base_.channels}},
        channels=32))
