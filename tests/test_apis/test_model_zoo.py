"""The model zoo API: every config is listed, mmdet's released weights and
results are those of mmdet's own metafiles, weights load from a path or the
download cache, and a missing network gives an actionable error."""
import glob
import os.path as osp
import urllib.error

import pytest
import torch
import yaml

from mmpanoptic.apis import (
    ModelZooError,
    PanopticInferencer,
    checkpoint_file,
    get_model,
    list_models,
    model_info,
    model_zoo,
)

ROOT = model_zoo.ROOT


def test_every_config_is_in_the_zoo_and_every_entry_exists():
    configs = {osp.relpath(p, ROOT) for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                                                       recursive=True)
               if '_base_' not in p and '/projects/' not in p}
    listed = {model_info(n)['Config'] for n in list_models()}
    assert configs == listed
    for name in list_models():
        info = model_info(name)
        assert osp.isfile(osp.join(ROOT, info['Config'])) and info['Paper']['Title']


def test_released_weights_and_results_are_mmdets():
    import mmdet

    from mmpanoptic.testing.reference import PAIRS
    theirs = {}
    for path in glob.glob(osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs', '*',
                                   'metafile.yml')):
        data = yaml.safe_load(open(path))
        for m in data.get('Models', []) if isinstance(data, dict) else []:
            theirs[m['Config']] = m
    for mmdet_cfg, ours in PAIRS.values():
        name = osp.splitext(osp.basename(ours))[0]
        ref = theirs['configs/' + mmdet_cfg]
        info = model_info(name)
        assert info['Weights'] == ref['Weights']
        assert info['Results'] == ref['Results']


def test_patterns():
    assert 'mask2former_r50_lsj-50e_coco-panoptic' in list_models('mask2former*coco*')
    assert all('toy' in n for n in list_models('toy'))
    with pytest.raises(ModelZooError, match='unknown model'):
        model_info('mask2former_r51')


def test_offline_download_says_what_to_fetch_and_where(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))

    def no_network(url, dst):
        raise urllib.error.URLError('no route to host')
    monkeypatch.setattr(model_zoo, '_download', no_network)
    name = 'mask2former_r50_lsj-50e_coco-panoptic'
    url = model_info(name)['Weights']
    with pytest.raises(ModelZooError) as e:
        checkpoint_file(name)
    msg = str(e.value)
    assert url in msg and osp.join(str(tmp_path), 'hub', 'checkpoints',
                                   osp.basename(url)) in msg
    # Put there, it is used without any download.
    cached = tmp_path / 'hub' / 'checkpoints' / osp.basename(url)
    cached.write_bytes(b'x')
    assert checkpoint_file(name) == str(cached)
    with pytest.raises(ModelZooError, match='no released weights: train it'):
        checkpoint_file('panoptic-fpn_r18_fpn_toy')
    with pytest.raises(ModelZooError, match='panoptic_deeplab_d2_to_mmpanoptic'):
        checkpoint_file('panoptic-deeplab_r52-dsconv_os16_200k_coco-panoptic')


def test_get_model_and_inferencer_by_name(tmp_path, toy_data):
    name = 'panoptic-fpn_r18_fpn_toy'
    model = get_model(name, pretrained=False)
    assert type(model).__name__ == 'PanopticFPN' and not model.training
    meta = dict(classes=['ellipse', 'box', 'triangle', 'ring', 'sky', 'grass', 'water', 'sand'],
                thing_classes=['ellipse', 'box', 'triangle', 'ring'])
    path = str(tmp_path / 'ckpt.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict(dataset_meta=meta)), path)
    loaded = get_model(name, pretrained=path)
    assert loaded.dataset_meta['classes'] == meta['classes']
    for k, v in model.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k])
    inferencer = PanopticInferencer(name, path)
    result = inferencer(osp.join(toy_data, 'val2017', sorted(
        __import__('os').listdir(osp.join(toy_data, 'val2017')))[0]))[0]
    assert result['ids'].shape == result['image'].shape[:2]
