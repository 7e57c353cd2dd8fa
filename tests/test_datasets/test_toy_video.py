"""The procedural video data: track ids persist, things move, layouts agree."""
import json
import os.path as osp

import numpy as np

from mmpanoptic.datasets import VideoPanopticDataset, make_toy_video, render_video
from mmpanoptic.evaluation.files.video_eval import evaluate_video_dirs
from mmpanoptic.fileio import load_categories


def test_render_video_ids_persist_and_things_move():
    frames = render_video(3, num_frames=8)
    thing_ids = [{s['id']: s['bbox'] for s in info if s['category_id'] < 20}
                 for _, _, info in frames]
    common = set(thing_ids[0]) & set(thing_ids[1])
    assert common  # the same objects in consecutive frames keep their ids
    assert any(thing_ids[0][i] != thing_ids[1][i] for i in common)  # and move
    stuff = [{s['id'] for s in info if s['category_id'] > 20} for _, _, info in frames]
    assert stuff[0] == stuff[-1]  # stuff keeps its ids
    for _, ids, info in frames:
        assert set(np.unique(ids)) - {0} == {s['id'] for s in info}


def test_layouts_describe_the_same_frames(tmp_path):
    root = str(tmp_path)
    make_toy_video(root, num_train=1, num_val=2, num_frames=4, progress=False)
    cats = load_categories(osp.join(root, 'categories.json'))
    # Ground truth against itself is perfect in both layouts.
    for layout, d in (('step', 'step_val'), ('cityscapes-vps', 'annotations/panoptic_val')):
        res = evaluate_video_dirs(osp.join(root, d), osp.join(root, d), cats, layout=layout)
        assert res['vpq']['mean']['All']['pq'] == 1.0 and res['stq']['stq'] == 1.0
    ds = VideoPanopticDataset(ann_file='annotations/panoptic_val.json', data_root=root + '/',
                              data_prefix=dict(img='val/', seg='annotations/panoptic_val/'),
                              test_mode=True)
    order = [(ds.get_data_info(i)['video_id'], ds.get_data_info(i)['frame_id'])
             for i in range(len(ds))]
    assert order == sorted(order) and len(order) == 8
    with open(osp.join(root, 'annotations', 'panoptic_val.json')) as f:
        assert json.load(f)['images'][0]['video_id'] == 0
