"""The video designs of this toolbox beyond an image model + a tracker,
trained to the end on the toy videos and compared with the image model +
``OnlineMaskTracker`` at the same backbone and steps (pytest -m slow):

- DVIS++-style decoupled tracking (the toy Mask2Former frozen, a referring
  tracker, then a temporal refiner): docs/results/toy_video_dvis.json;
- ViP-DeepLab (Panoptic-DeepLab + the next-frame branch, stitched):
  docs/results/toy_video_vip_deeplab.json;
- near-online tube queries (clips of 2 frames; tested at T = 1, 2, 3):
  docs/results/toy_video_tube.json.

Floors: the runs' first figures (in each results file) times about 0.85;
DVIS offline must also beat the online tracker measured in the same test.

The tools run with one torch thread (``OMP_NUM_THREADS=1``), as the recorded
runs did: training numerics depend on the thread count (a two-thread rerun
of the DVIS test gave the online tracker VPQ 72.80 instead of 70.41 and DVIS
offline 74.25 instead of 75.72, a margin of 1.44 instead of 5.31)."""
import time

import pytest

from mmpanoptic.datasets import make_toy_video

from ..e2e_utils import last_checkpoint, read_json, record_result, run_tool


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    monkeypatch.setenv('OMP_NUM_THREADS', '1')


IMAGE = 'configs/video/mask2former_r18_online-tracker_toy-video.py'
DVIS = 'configs/video/dvis_mask2former_r18_toy-video.py'
DVIS_OFFLINE = 'configs/video/dvis-offline_mask2former_r18_toy-video.py'
VIP = 'configs/video/vip-deeplab_r18_toy-video.py'
PDL_TRACKER = 'configs/video/panoptic-deeplab_r18_online-tracker_toy-video.py'
TUBE = 'configs/video/mask2former_r18_tube-clip2_toy-video.py'
KEYS = ('video/VPQ@1', 'video/VPQ@2', 'video/VPQ@3', 'video/VPQ@4', 'video/VPQ',
        'video/VPQ_th', 'video/VPQ_st', 'video/STQ', 'video/AQ', 'video/SQ')


def options(root):
    root = root.rstrip('/') + '/'
    return [f'train_dataloader.dataset.data_root={root}',
            f'val_dataloader.dataset.data_root={root}',
            f'test_dataloader.dataset.data_root={root}']


def train(config, work, root, *extra):
    start = time.time()
    run_tool('tools/train.py', config, '--work-dir', work, '--cfg-options', *options(root),
             *extra, timeout=5400)
    return last_checkpoint(work), round(time.time() - start, 1)


def evaluate(config, ckpt, work, root, out, *extra):
    run_tool('tools/test.py', config, ckpt, '--work-dir', work, '--out', out,
             '--cfg-options', *options(root), *extra)
    metrics = read_json(out)
    print(config, extra, {k: round(metrics[k], 2) for k in KEYS})
    return metrics


def commands(steps):
    """The user's commands (data in data/toy_video, work dirs under work_dirs)."""
    opts = ' '.join(options('data/toy_video'))
    out = ['python tools/dataset_converters/make_toy_video.py --out data/toy_video']
    for kind, config, work, extra in steps:
        if kind == 'train':
            out.append(f'python tools/train.py {config} --work-dir {work} --cfg-options '
                       f'{opts} {extra}'.rstrip())
        else:
            out.append(f'python tools/test.py {config} $(cat {work}/last_checkpoint) '
                       f'--work-dir {work} --cfg-options {opts} {extra}'.rstrip())
    return out


@pytest.mark.slow
def test_dvis_online_and_offline_on_toy_videos(tmp_path):
    root = str(tmp_path / 'toy_video')
    make_toy_video(root, progress=False)
    image_ckpt, image_s = train(IMAGE, str(tmp_path / 'image'), root)
    results = dict(online_tracker=evaluate(IMAGE, image_ckpt, str(tmp_path / 'image'), root,
                                       str(tmp_path / 'image.json')))
    dvis_ckpt, dvis_s = train(DVIS, str(tmp_path / 'dvis'), root, f'load_from={image_ckpt}')
    results['dvis_online'] = evaluate(DVIS, dvis_ckpt, str(tmp_path / 'dvis'), root,
                                  str(tmp_path / 'dvis.json'))
    offline_ckpt, offline_s = train(DVIS_OFFLINE, str(tmp_path / 'offline'), root,
                                    f'load_from={dvis_ckpt}')
    results['dvis_offline'] = evaluate(DVIS_OFFLINE, offline_ckpt, str(tmp_path / 'offline'),
                                   root, str(tmp_path / 'offline.json'))
    # The offline checkpoint run online: its tracker is the stage-1 tracker.
    results['dvis_offline_ckpt_online'] = evaluate(
        DVIS_OFFLINE, offline_ckpt, str(tmp_path / 'offline'), root,
        str(tmp_path / 'offline_online.json'), 'model.mode=online',
        'test_dataloader.batch_sampler=None')
    work = 'work_dirs/toy-video-dvis'
    record_result('toy_video_dvis', dict(
        results, train_seconds=dict(image=image_s, dvis_online=dvis_s,
                                    dvis_offline=offline_s)), commands([
            ('train', IMAGE, f'{work}/image', ''),
            ('test', IMAGE, f'{work}/image', ''),
            ('train', DVIS, f'{work}/online',
             f'load_from=$(cat {work}/image/last_checkpoint)'),
            ('test', DVIS, f'{work}/online', ''),
            ('train', DVIS_OFFLINE, f'{work}/offline',
             f'load_from=$(cat {work}/online/last_checkpoint)'),
            ('test', DVIS_OFFLINE, f'{work}/offline', ''),
            ('test', DVIS_OFFLINE, f'{work}/offline',
             'model.mode=online test_dataloader.batch_sampler=None')]))
    online, offline = results['dvis_online'], results['dvis_offline']
    # Stage 2 leaves the tracker as it was: the same online figures.
    for key in KEYS:
        assert results['dvis_offline_ckpt_online'][key] == pytest.approx(online[key])
    for key, floor in DVIS_FLOORS.items():
        assert online[key] >= floor, ('online', key, online[key])
        assert offline[key] >= floor, ('offline', key, offline[key])
    base = results['online_tracker']
    for key in ('video/VPQ', 'video/STQ'):
        assert offline[key] >= base[key] + OFFLINE_MARGIN, (key, offline[key], base[key])


@pytest.mark.slow
def test_vip_deeplab_on_toy_videos(tmp_path):
    root = str(tmp_path / 'toy_video')
    make_toy_video(root, progress=False)
    ckpt, train_s = train(VIP, str(tmp_path / 'vip'), root)
    results = dict(vip_deeplab=evaluate(VIP, ckpt, str(tmp_path / 'vip'), root,
                                    str(tmp_path / 'vip.json')),
                   online_tracker=evaluate(PDL_TRACKER, ckpt, str(tmp_path / 'vip'), root,
                                       str(tmp_path / 'pdl.json')))
    work = 'work_dirs/vip-deeplab_r18_toy-video'
    record_result('toy_video_vip_deeplab', dict(results, train_seconds=train_s), commands([
        ('train', VIP, work, ''), ('test', VIP, work, ''), ('test', PDL_TRACKER, work, '')]))
    vip, base = results['vip_deeplab'], results['online_tracker']
    # The same per-frame segments: only the ids differ.
    assert vip['video/VPQ@1'] == pytest.approx(base['video/VPQ@1'])
    for key, floor in VIP_FLOORS.items():
        assert vip[key] >= floor, (key, vip[key])


@pytest.mark.slow
def test_tube_queries_on_toy_videos(tmp_path):
    root = str(tmp_path / 'toy_video')
    make_toy_video(root, progress=False)
    ckpt, train_s = train(TUBE, str(tmp_path / 'tube'), root)
    results = {}
    for t in (1, 2, 3):
        results[f'clip{t}'] = evaluate(TUBE, ckpt, str(tmp_path / 'tube'), root,
                                   str(tmp_path / f'clip{t}.json'), f'model.clip_length={t}',
                                   f'test_dataloader.batch_sampler.clip_length={t}')
    work = 'work_dirs/mask2former_r18_tube-clip2_toy-video'
    record_result('toy_video_tube', dict(results, train_seconds=train_s), commands(
        [('train', TUBE, work, '')] +
        [('test', TUBE, work, f'model.clip_length={t} '
                              f'test_dataloader.batch_sampler.clip_length={t}')
         for t in (1, 2, 3)]))
    for key, floor in TUBE_FLOORS.items():
        assert results['clip2'][key] >= floor, (key, results['clip2'][key])


# About 0.85 x the first run's online figures (toy_video_dvis.json at dd670be:
# VPQ@1 72.79, VPQ 70.25, STQ 57.50), for online and offline; offline beat the
# online tracker by 5.3 VPQ and 7.0 STQ there.
DVIS_FLOORS = {'video/VPQ@1': 61.0, 'video/VPQ': 59.0, 'video/STQ': 48.0}
OFFLINE_MARGIN = 2.0
# About 0.85 x the first run (toy_video_vip_deeplab.json at dd670be: VPQ@1 75.37,
# VPQ 69.02, STQ 54.92).
VIP_FLOORS = {'video/VPQ@1': 64.0, 'video/VPQ': 58.0, 'video/STQ': 46.0}
# About 0.85 x the first run (toy_video_tube.json at dd670be, T = 2: VPQ@1 66.05,
# VPQ 62.61, STQ 52.10).
TUBE_FLOORS = {'video/VPQ@1': 56.0, 'video/VPQ': 53.0, 'video/STQ': 44.0}
