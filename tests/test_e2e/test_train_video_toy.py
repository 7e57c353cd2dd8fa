"""The toy video config trained to the end, tested with and without the
tracker (pytest -m slow, ~8 min)."""
import pytest

from mmpanoptic.datasets import make_toy_video

from ..e2e_utils import last_checkpoint, read_json, run_tool

CONFIG = 'configs/video/mask2former_r18_online-tracker_toy-video.py'
BASELINE = 'configs/video/mask2former_r18_no-tracker_toy-video.py'

# Measured (seed 0, 2 CPU cores, ~15 min of training on the slower VM): with
# the tracker VPQ 68.15 (VPQ@1..4 72.34 / 67.66 / 67.78 / 64.83), STQ 55.29,
# AQ 43.58; with a new id per segment per frame VPQ 18.88, STQ 22.15, AQ 6.99.
VPQ1_FLOOR = 60.0
VPQ_MARGIN = 30.0
STQ_MARGIN = 20.0
AQ_FLOOR = 30.0


def options(root):
    root = root.rstrip('/') + '/'
    return [f'train_dataloader.dataset.data_root={root}',
            f'val_dataloader.dataset.data_root={root}',
            f'test_dataloader.dataset.data_root={root}']


@pytest.mark.slow
def test_video_model_tracks_better_than_new_ids_every_frame(tmp_path):
    root = str(tmp_path / 'toy_video')
    make_toy_video(root, progress=False)
    work = str(tmp_path / 'work')
    run_tool('tools/train.py', CONFIG, '--work-dir', work, '--cfg-options', *options(root),
             timeout=1800)
    ckpt = last_checkpoint(work)
    results = {}
    for name, config in (('tracker', CONFIG), ('baseline', BASELINE)):
        out = str(tmp_path / f'{name}.json')
        run_tool('tools/test.py', config, ckpt, '--work-dir', work, '--out', out,
                 '--cfg-options', *options(root))
        results[name] = read_json(out)
        print(name, {k: round(v, 2) for k, v in results[name].items() if 'video' in k})
    tracked, base = results['tracker'], results['baseline']
    # Same frames, same per-frame segments: only the ids differ.
    assert tracked['video/VPQ@1'] == pytest.approx(base['video/VPQ@1'])
    assert tracked['video/VPQ@1'] >= VPQ1_FLOOR
    assert tracked['video/VPQ'] >= base['video/VPQ'] + VPQ_MARGIN
    assert tracked['video/STQ'] >= base['video/STQ'] + STQ_MARGIN
    assert tracked['video/AQ'] >= AQ_FLOOR
