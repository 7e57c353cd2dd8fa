"""Every config parses and its model builds; COCO configs without data fail clearly."""
import ast
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from mmpanoptic.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    glob.glob(osp.join(ROOT, 'configs', '*.py')) +
    glob.glob(osp.join(ROOT, 'configs', '*', '*.py')) +
    glob.glob(osp.join(ROOT, 'projects', '*', 'configs', '*.py')))
CONFIGS = [c for c in CONFIGS if '_base_' not in c]


def test_configs_found():
    names = {osp.basename(c) for c in CONFIGS}
    assert {'panoptic-fpn_r50_fpn_1x_coco-panoptic.py', 'panoptic-fpn_r18_fpn_toy.py',
            'mask2former_swin-l_coco-panoptic.py', 'mask2former_r18_toy.py',
            'maskformer_r18_toy.py', 'upsnet_r18_fpn_toy.py',
            'panoptic-deeplab_r18_toy.py'} <= names
    assert osp.isfile(osp.join(ROOT, 'configs', 'mask2former_swin-l_coco-panoptic.py'))


def _bases(path):
    """The ``_base_`` files a config names (read from its source, not run)."""
    for node in ast.parse(open(path).read()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', None) == '_base_':
            value = ast.literal_eval(node.value)
            return [osp.normpath(osp.join(osp.dirname(path), b))
                    for b in ([value] if isinstance(value, str) else value)]
    return []


def _depth(path):
    bases = _bases(path)
    return 1 + max(map(_depth, bases)) if bases else 0


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, ROOT))
def test_inheritance_is_at_most_two_levels(path):
    """A config, its bases and their bases: no deeper (../shared/STYLE.md)."""
    assert _depth(path) <= 2, f'{path}: {_depth(path)} levels of _base_'


def replace_value(node, old, new):
    """Every ``old`` string value in a config tree becomes ``new``."""
    items = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else ()
    for key, value in list(items):
        if value == old:
            node[key] = new
        elif isinstance(value, (dict, list)):
            replace_value(value, old, new)


def without_clip_weights(node, path):
    """Random CLIP weights instead of the (absent) checkpoint file."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'checkpoint' and value == path:
                node[key] = None
            else:
                without_clip_weights(value, path)
    elif isinstance(node, list):
        for value in node:
            without_clip_weights(value, path)


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, ROOT))
def test_config_builds(path, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmpanoptic'
    if 'clip_checkpoint' in cfg:  # FC-CLIP: CLIP weights are the user's file
        without_clip_weights(cfg.model, cfg.clip_checkpoint)
    if cfg.model.get('backbone', {}).get('type') == 'DiffusionBackbone':
        # ODISE: the user's Stable Diffusion folder; a small random one here
        from pathlib import Path

        from mmpanoptic.testing.diffusion import tiny_stable_diffusion
        # the captioner's CLIP embeds in the text tower's width: ODISE's
        # CLIP head (MaskCLIP) is the same CLIP
        sd, clip = tiny_stable_diffusion(Path(tmp_path), captioner_dim=768)
        cfg.model.backbone.update(pretrained=sd, captioner=clip)
        if cfg.model.get('clip_head'):
            cfg.model.clip_head.update(pretrained=clip, last_layer=1)
    if 'clip_folder' in cfg:  # SAN: the user's transformers CLIP; a small random one here
        from pathlib import Path

        from mmpanoptic.testing.diffusion import tiny_clip
        replace_value(cfg.model, cfg.clip_folder, tiny_clip(Path(tmp_path), layers=12))
    model = MODELS.build(cfg.model)
    if hasattr(model, 'tracker'):  # video: an image model + a tracker
        assert callable(model.tracker.track) and callable(model.tracker.reset)
        model = model.detector
    if hasattr(model, 'roi_head'):  # Panoptic FPN / UPSNet: class counts agree between parts
        things = model.roi_head.bbox_head.num_classes
        assert model.roi_head.mask_head.num_classes == things == model.fusion.num_things
        if type(model).__name__ == 'UPSNet':
            assert model.num_things_classes == things
            assert model.semantic_head.num_classes == things + model.fusion.num_stuff
        else:
            assert model.semantic_head.num_things_classes == things
    elif hasattr(model, 'decode_head'):  # Panoptic-DeepLab
        assert model.decode_head.num_classes == model.num_classes
    else:  # mask classification: one count feeds head, criterion and fusion
        assert model.panoptic_head.num_classes == model.num_classes
        assert model.criterion.num_classes == model.num_classes
        assert model.fusion.num_things == model.num_things_classes

@pytest.mark.parametrize('config', [
    'configs/panoptic_fpn/panoptic-fpn_r50_fpn_1x_coco-panoptic.py',
    'configs/mask2former_swin-l_coco-panoptic.py',  # the flagship
])
def test_coco_config_without_data_names_missing_file(config, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no data/coco here
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.model.backbone.init_cfg = None
    runner = Runner.from_cfg(cfg)
    with pytest.raises(
            FileNotFoundError,
            match=r'data/coco/annotations/panoptic_train2017.json.*docs/dataset_prepare.md'):
        runner.train()


@pytest.mark.parametrize('path', sorted(glob.glob(osp.join(ROOT, 'configs', '_base_',
                                                           'datasets', '*.py'))),
                         ids=osp.basename)
def test_dataset_bases_parse_and_name_registered_types(path):
    from mmpanoptic.registry import DATASETS, METRICS, TRANSFORMS
    cfg = Config.fromfile(path)
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        assert DATASETS.get(loader.dataset.type) is not None
        for step in loader.dataset.get('pipeline', []):
            assert TRANSFORMS.get(step['type']) is not None, step['type']
    evaluators = cfg.val_evaluator if isinstance(cfg.val_evaluator, list) \
        else [cfg.val_evaluator]
    assert all(METRICS.get(e['type']) is not None for e in evaluators)
    if cfg.val_dataloader.dataset.type == 'VideoPanopticDataset':
        # The tracker needs the video and frame ids, and the frames in order.
        pack = cfg.val_dataloader.dataset.pipeline[-1]
        assert {'video_id', 'frame_id'} <= set(pack['meta_keys'])
        # Whole videos per process, frames in order (also with several processes).
        assert cfg.val_dataloader.sampler.type == 'VideoSampler'


def _resizes(pipeline):
    return [dict(t) for t in pipeline if t['type'] in ('mmdet.Resize', 'Resize')]


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, ROOT))
def test_tta_reference_view_is_the_test_view(path):
    """``--tta`` maps every view onto the first one and scores it like the
    plain test: that view must resize as the config's test pipeline does."""
    cfg = Config.fromfile(path)
    if 'tta_pipeline' not in cfg or 'test_dataloader' not in cfg:
        return
    tta = [t for t in cfg.tta_pipeline if t['type'] == 'TestTimeAug']
    assert len(tta) == 1, f'{path}: tta_pipeline needs one TestTimeAug'
    first = [step[0] for step in tta[0].transforms]
    assert _resizes(first) == _resizes(cfg.test_dataloader.dataset.pipeline), path
    flips = [t for step in tta[0].transforms for t in step if 'RandomFlip' in t['type']]
    assert not flips or flips[0]['prob'] == 0, f'{path}: the first view must not be flipped'
    pack = tta[0].transforms[-1][0]
    assert {'flip', 'flip_direction', 'scale_factor'} <= set(pack['meta_keys']), path
