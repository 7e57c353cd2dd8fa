"""tools/demo/video_demo.py on the bundled toy video, as a user runs it."""
import os
import os.path as osp

import cv2
import torch
from mmengine.config import Config

from mmpanoptic.datasets import TOY_CATEGORIES, render_video
from mmpanoptic.registry import MODELS
from mmpanoptic.visualization.panoptic import segment_colors

from ..e2e_utils import ROOT, run_tool

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
