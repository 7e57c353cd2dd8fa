"""tools/demo/video_demo.py on the bundled toy video, as a user runs it."""
import os
import os.path as osp

import cv2
import pytest
import torch
from mmengine.config import Config

from mmpanoptic.datasets import TOY_CATEGORIES, render_video
from mmpanoptic.registry import MODELS
from mmpanoptic.visualization.panoptic import segment_colors

from ..e2e_utils import ROOT, keep_all_video_config, run_tool

CONFIG = 'configs/video/mask2former_r18_online-tracker_toy-video.py'


def test_colors_follow_the_track_id():
    palette = [(200, 0, 0), (0, 200, 0)]
    a = segment_colors([dict(id=7, label=0, isthing=True), dict(id=9, label=0, isthing=True)],
                       palette, by_id=True)
    b = segment_colors([dict(id=9, label=0, isthing=True), dict(id=7, label=0, isthing=True)],
                       palette, by_id=True)
    assert a == b and a[7] != a[9]  # order-independent, distinct per id


def test_video_demo_writes_a_picture_per_frame(tmp_path):
    frames_dir = tmp_path / 'frames'
    frames_dir.mkdir()
    for t, (img, _, _) in enumerate(render_video(1, num_frames=3)):
        cv2.imwrite(str(frames_dir / f'{t:04d}.png'), img[..., ::-1])
    cfg = Config.fromfile(osp.join(ROOT, CONFIG))
    model = MODELS.build(cfg.model)
    classes = tuple(c['name'] for c in sorted(TOY_CATEGORIES, key=lambda c: -c['isthing']))
    meta = dict(classes=classes, palette=[c['color'] for c in TOY_CATEGORIES])
    ckpt = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict(dataset_meta=meta)), ckpt)
    out = str(tmp_path / 'out')
    log = run_tool('tools/demo/video_demo.py', str(frames_dir), CONFIG, ckpt, '--out', out,
                   '--scale', '2')
    assert '3 frames written' in log
    pictures = sorted(os.listdir(out))
    assert pictures == ['000000.jpg', '000001.jpg', '000002.jpg']
    assert cv2.imread(osp.join(out, pictures[0])).shape == (256, 256, 3)
    video = str(tmp_path / 'out.avi')
    run_tool('tools/demo/video_demo.py', str(frames_dir), CONFIG, ckpt, '--out', video)
    assert osp.getsize(video) > 0


OV_CONFIG = 'configs/video/mask2former_r18_text-minilm_online-tracker_toy-video.py'
TOY_CLASSES = 'ellipse,box,triangle,ring,sky,grass,water,sand'
# An untrained model labels at random: all but one class are things here so
# that tracks (the instance channel) are written whatever it picks.
TOY_THINGS = 'ellipse,box,triangle,ring,grass,water,sand'


def test_open_vocabulary_video_demo_writes_predictions_video_eval_scores(tmp_path):
    """An open-vocabulary video model run by the demo with classes from the
    command line: ``--pred-out`` writes every frame in the STEP layout with
    the dataset's category ids and track ids, equal to the inferencer's
    results, and ``video_eval.py --layout step`` scores the folder against
    the toy ground truth."""
    import json

    import numpy as np

    from mmpanoptic.apis import VideoInferencer
    from mmpanoptic.datasets import make_toy_video
    from mmpanoptic.fileio import load_categories, read_step_frame

    root = tmp_path / 'toy'
    make_toy_video(str(root), num_train=1, num_val=1, num_frames=4, height=64, width=64,
                   progress=False)
    frames = tmp_path / 'frames' / '0000'
    frames.mkdir(parents=True)
    for t in range(4):  # the validation video's frames, named as its STEP ground truth
        os.link(root / 'val' / f'0000_{t:04d}.png', frames / f'{t:04d}.png')
    # An untrained model: keep every query so that there are segments to write.
    keep_all = keep_all_video_config(tmp_path, OV_CONFIG)
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(keep_all)).model)
    ckpt = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    pred = tmp_path / 'pred'
    log = run_tool('tools/demo/video_demo.py', str(frames), str(keep_all), ckpt, '--out',
                   str(tmp_path / 'pictures'), '--classes', TOY_CLASSES, '--things', TOY_THINGS,
                   '--pred-out', str(pred), '--categories', str(root / 'categories.json'))
    assert 'predictions in the STEP layout' in log
    assert sorted(os.listdir(pred / '0000')) == [f'{t:04d}.png' for t in range(4)]
    cats = load_categories(str(pred / 'categories.json'))
    toy = {c['name']: c['id'] for c in load_categories(str(root / 'categories.json'))}
    things_first = TOY_THINGS.split(',') + ['sky']  # the vocabulary's order
    assert [(c['name'], c['id'], c['isthing']) for c in cats] == [
        (n, toy[n], int(n != 'sky')) for n in things_first]

    # The files hold what the inferencer computes: category and track id per pixel.
    ours = list(VideoInferencer(str(keep_all), ckpt, classes=TOY_CLASSES,
                                things=TOY_THINGS)(str(frames)))
    cat_index = {c['id']: i for i, c in enumerate(cats)}
    things = {c['id'] for c in cats if c['isthing']}
    tracks = set()
    for result in ours:
        assert result['segments_info'], result['name']
        frame = read_step_frame(str(pred / '0000' / f'{result["name"]}.png'), cat_index, things,
                                False, result['name'])
        category = np.full(result['ids'].shape, 255)
        for s in result['segments_info']:
            category[result['ids'] == s['id']] = toy[s['category']]
            if s['isthing']:
                tracks.add(s['id'])
                # one STEP segment per track: (category << 16 | track) + 1
                assert np.array_equal(frame.ids == (toy[s['category']] << 16 | s['id']) + 1,
                                      result['ids'] == s['id'])
        assert np.array_equal((frame.ids - 1) >> 16, np.where(category == 255, -1, category))
    assert tracks

    gt = tmp_path / 'gt'
    gt.mkdir()
    os.symlink(root / 'step_val' / '0000', gt / '0000')
    run_tool('tools/analysis_tools/video_eval.py', '--gt', str(gt), '--pred', str(pred),
             '--categories', str(pred / 'categories.json'), '--out', str(tmp_path / 'eval.json'))
    scores = json.load(open(tmp_path / 'eval.json'))
    assert 0.0 <= scores['vpq']['mean']['All']['pq'] <= 1.0
    assert 0.0 <= scores['stq']['stq'] <= 1.0


def test_video_demo_names_a_class_the_categories_lack(tmp_path):
    cfg = Config.fromfile(osp.join(ROOT, OV_CONFIG))
    ckpt = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict(), meta=dict()), ckpt)
    cats = tmp_path / 'categories.json'
    cats.write_text('[{"id": 1, "name": "box", "isthing": 1}]')
    frames = tmp_path / 'frames'
    frames.mkdir()
    for t, (img, _, _) in enumerate(render_video(1, num_frames=1)):
        cv2.imwrite(str(frames / f'{t:04d}.png'), img[..., ::-1])
    with pytest.raises(AssertionError) as failed:
        run_tool('tools/demo/video_demo.py', str(frames), OV_CONFIG, ckpt, '--out',
                 str(tmp_path / 'out'), '--classes', 'box,zebra crossing', '--things', 'box',
                 '--pred-out', str(tmp_path / 'pred'), '--categories', str(cats))
    assert f"error: {cats}: no category named 'zebra crossing'" in str(failed.value)
