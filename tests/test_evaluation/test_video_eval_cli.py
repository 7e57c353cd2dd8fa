"""tools/analysis_tools/video_eval.py on both layouts, as a user runs it."""
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest

from mmpanoptic.structures import id2rgb

from ..e2e_utils import read_json

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CASES = osp.join(ROOT, 'tests', 'data', 'video_eval_cases')
CLI = osp.join(ROOT, 'tools', 'analysis_tools', 'video_eval.py')


def run(*args):
    proc = subprocess.run([sys.executable, CLI, *args], capture_output=True, text=True)
    return proc


def write_rgb(path, rgb):
    os.makedirs(osp.dirname(path), exist_ok=True)
    cv2.imwrite(path, np.ascontiguousarray(rgb[..., ::-1]).astype(np.uint8))


def test_cityscapes_vps_layout_gives_the_published_case(tmp_path):
    data = read_json(osp.join(CASES, 'vpq_edge_id_switch.json'))
    cats = data['inputs']['categories']
    (tmp_path / 'cats.json').write_text(json.dumps(cats))
    for role, key in (('gt', 'gt_ids'), ('pred', 'pred_ids')):
        anns = []
        for t, ids in enumerate(data['inputs'][key]):
            ids = np.array(ids)
            name = f'0001_000{t}_city_000000_00000{t}'
            write_rgb(str(tmp_path / role / f'{name}.png'), id2rgb(ids))
            segs = [dict(id=int(s), category_id=int(s) // 1000, iscrowd=0,
                         area=int((ids == s).sum())) for s in np.unique(ids)]
            anns.append(dict(image_id=name, file_name=f'{name}.png', segments_info=segs))
        (tmp_path / role / f'{role}.json').write_text(json.dumps(dict(annotations=anns)))
    out = tmp_path / 'res.json'
    proc = run('--gt', str(tmp_path / 'gt'), '--pred', str(tmp_path / 'pred'), '--categories',
               str(tmp_path / 'cats.json'), '--layout', 'cityscapes-vps', '--window-frames',
               '1', '2', '--out', str(out))
    assert proc.returncode == 0, proc.stderr
    res = json.loads(out.read_text())
    for k, ref_k in (('1', '0'), ('2', '5')):
        for split in ('All', 'Things', 'Stuff'):
            assert res['vpq'][k][split]['pq'] == pytest.approx(data['vpq'][ref_k][split]['pq'])
    assert res['vpq']['mean']['All']['pq'] == pytest.approx(0.75)
    assert res['stq']['stq'] == pytest.approx(data['stq']['STQ'])
    assert res['stq']['aq'] == pytest.approx(0.5)
    assert 'STQ 70.71' in proc.stdout


def step_png(cat, inst):
    return np.stack([cat, inst // 256, inst % 256], -1)


def test_step_layout_perfect_and_id_switch(tmp_path):
    cats = [dict(id=0, name='road', isthing=0), dict(id=11, name='person', isthing=1)]
    (tmp_path / 'cats.json').write_text(json.dumps(cats))
    cat = np.zeros((4, 6), int)
    cat[1:3, 1:3] = 11
    cat[0, 5] = 255  # void
    for t in range(3):
        gt_inst = np.where(cat == 11, 7, 0)
        pred_inst = np.where(cat == 11, 7 if t < 2 else 8, 0)  # id switch at t=2
        write_rgb(str(tmp_path / 'gt' / 'v0' / f'{t:06d}.png'), step_png(cat, gt_inst))
        write_rgb(str(tmp_path / 'pred' / 'v0' / f'{t:06d}.png'), step_png(cat, pred_inst))
    out = tmp_path / 'res.json'
    proc = run('--gt', str(tmp_path / 'gt'), '--pred', str(tmp_path / 'pred'), '--categories',
               str(tmp_path / 'cats.json'), '--out', str(out))
    assert proc.returncode == 0, proc.stderr
    res = json.loads(out.read_text())
    assert res['vpq']['1']['Things']['pq'] == 1.0  # per frame everything is right
    # 3-frame tube: gt 12 px vs pred 7 (8 px) -> IoU 2/3 > 0.5 -> TP with IoU 2/3
    assert res['vpq']['3']['Things']['pq'] == pytest.approx(2 / 3 / (1 + 0.5))
    # AQ: TPA 8 * IoU 8/12 + 4 * 4/12, over |g| = 12
    assert res['stq']['aq'] == pytest.approx((8 * 8 / 12 + 4 * 4 / 12) / 12)
    assert res['stq']['iou'] == pytest.approx(1.0)


def test_missing_prediction_and_unknown_category_are_named(tmp_path):
    cats = [dict(id=0, name='road', isthing=0)]
    (tmp_path / 'cats.json').write_text(json.dumps(cats))
    write_rgb(str(tmp_path / 'gt' / 'v0' / '000000.png'), step_png(np.zeros((2, 2), int),
                                                                   np.zeros((2, 2), int)))
    os.makedirs(tmp_path / 'pred' / 'v0')
    write_rgb(str(tmp_path / 'pred' / 'v1' / '000000.png'), step_png(np.zeros((2, 2), int),
                                                                     np.zeros((2, 2), int)))
    args = ['--gt', str(tmp_path / 'gt'), '--pred', str(tmp_path / 'pred'), '--categories',
            str(tmp_path / 'cats.json')]
    proc = run(*args)
    assert proc.returncode != 0 and 'video v0' in proc.stderr and 'no prediction' in proc.stderr
    write_rgb(str(tmp_path / 'pred' / 'v0' / '000000.png'), step_png(np.full((2, 2), 9),
                                                                     np.zeros((2, 2), int)))
    proc = run(*args)
    assert 'video v0 frame 000000.png' in proc.stderr and 'unknown category id 9' in proc.stderr


def test_cli_starts_without_torch(tmp_path):
    """The video CLI reads its files through mmpanoptic.fileio (numpy, OpenCV):
    no torch / OpenMMLab import, as the PQ CLI."""
    cats = [dict(id=0, name='road', isthing=0), dict(id=11, name='person', isthing=1)]
    (tmp_path / 'cats.json').write_text(json.dumps(cats))
    cat = np.zeros((4, 6), int)
    cat[1:3, 1:3] = 11
    for root in ('gt', 'pred'):
        write_rgb(str(tmp_path / root / 'v0' / '000000.png'), step_png(cat, np.where(cat, 3, 0)))
    code = ('import runpy, sys\n'
            f'sys.argv = ["video_eval.py", "--gt", {str(tmp_path / "gt")!r}, "--pred", '
            f'{str(tmp_path / "pred")!r}, "--categories", {str(tmp_path / "cats.json")!r}]\n'
            'runpy.run_path("tools/analysis_tools/video_eval.py", run_name="__main__")\n'
            'heavy = [m for m in ("torch", "mmengine", "mmcv", "mmdet") if m in sys.modules]\n'
            'print("HEAVY", heavy)\n')
    proc = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert 'HEAVY []' in proc.stdout and 'STQ 100.00' in proc.stdout
