"""OV-DVIS++ on toy data end to end (pytest -m slow, ~25 min): the
open-vocabulary toy Mask2Former trained on the 12 base classes' images,
then DVIS's referring tracker (classifying in the same text space) trained
on *pseudo videos* of the same images (OV-DVIS++'s recipe: no video in
training), evaluated on toy videos of all 16 classes beside the same
segmenter + the online mask tracker, VPQ / STQ on base and novel classes
apart, and against a random classifier on the DVIS tracks.  The demo
(video_demo.py --classes --pred-out) runs the DVIS model too."""
import time

import pytest

from mmpanoptic.datasets.toy_open_vocab import (
    make_toy_open_vocab,
    make_toy_open_vocab_video,
)

from ..e2e_utils import last_checkpoint, read_json, record_result, run_tool
from .test_train_open_vocab_video_toy import CONFIG as TRACKER_CONFIG
from .test_train_open_vocab_video_toy import (
    NUM_FRAMES,
    NUM_VIDEOS,
    TRAIN_IMAGES,
    demo_and_random_scores,
    options,
)

CONFIG = 'configs/video/dvis_mask2former_r18_text-minilm_toy-open-vocab-video.py'
# Floors below the first run (docs/results/toy_open_vocab_dvis.json: DVIS
# VPQ novel 30.17 / base 49.36, STQ novel 37.00; the tracker's novel VPQ
# 29.36; the random classifier 0 on novel classes).  Novel VPQ varies between
# runs of the same config (the tracker's: 13.50 in
# docs/results/toy_open_vocab_video.json, 29.36 here): the absolute novel
# floors are those of test_train_open_vocab_video_toy.py, the relative one
# compares with the tracker of the same run.
NOVEL_VPQ_FLOOR = 10.0
NOVEL_STQ_FLOOR = 14.0
BASE_VPQ_FLOOR = 40.0
OF_TRACKER = 0.7  # DVIS novel VPQ at least this share of the tracker's


def run_test_tool(work, config, ckpt, images, videos, out):
    run_tool('tools/test.py', config, ckpt, '--work-dir', work, '--out', out,
             '--cfg-options', *options(images, videos))
    return {k.split('/', 1)[1] if k.startswith('video/') else k: v
            for k, v in read_json(out).items()}


@pytest.mark.slow
def test_ov_dvis_tracks_novel_classes_after_pseudo_video_training(tmp_path):
    images, videos = str(tmp_path / 'images'), str(tmp_path / 'videos')
    make_toy_open_vocab(images, num_train=TRAIN_IMAGES, num_val=1, progress=False)
    make_toy_open_vocab_video(videos, num_val=NUM_VIDEOS, num_frames=NUM_FRAMES, progress=False)
    seconds = {}
    start = time.time()
    image_work = str(tmp_path / 'image')
    run_tool('tools/train.py', TRACKER_CONFIG, '--work-dir', image_work, '--cfg-options',
             *options(images, videos), timeout=5400)
    seconds['image'] = round(time.time() - start, 1)
    image_ckpt = last_checkpoint(image_work)
    tracker = run_test_tool(image_work, TRACKER_CONFIG, image_ckpt, images, videos,
                           str(tmp_path / 'tracker.json'))

    start = time.time()
    dvis_work = str(tmp_path / 'dvis')
    run_tool('tools/train.py', CONFIG, '--work-dir', dvis_work, '--cfg-options',
             f'load_from={image_ckpt}', *options(images, videos), timeout=5400)
    seconds['dvis'] = round(time.time() - start, 1)
    ckpt = last_checkpoint(dvis_work)
    dvis = run_test_tool(dvis_work, CONFIG, ckpt, images, videos, str(tmp_path / 'dvis.json'))

    _, random = demo_and_random_scores(videos, CONFIG, ckpt, tmp_path, dvis)
    print('tracker', {k: round(v, 2) for k, v in tracker.items()})
    print('dvis', {k: round(v, 2) for k, v in dvis.items()})
    print('random', [{k: round(v, 2) for k, v in r.items()} for r in random])

    record_result('toy_open_vocab_dvis', dict(
        online_tracker=tracker, ov_dvis=dvis, random_classifier=random,
        train_seconds=seconds), [
        'python tools/dataset_converters/make_toy_panoptic.py --open-vocab --out '
        f'data/toy_open_vocab --num-train {TRAIN_IMAGES} --num-val 1',
        'python tools/dataset_converters/make_toy_video.py --open-vocab --out '
        f'data/toy_open_vocab_video --num-train 0 --num-val {NUM_VIDEOS} '
        f'--num-frames {NUM_FRAMES}',
        f'python tools/train.py {TRACKER_CONFIG} --work-dir work_dirs/ov-image',
        f'python tools/test.py {TRACKER_CONFIG} $(cat work_dirs/ov-image/last_checkpoint)',
        f'python tools/train.py {CONFIG} --work-dir work_dirs/ov-dvis --cfg-options '
        'load_from=$(cat work_dirs/ov-image/last_checkpoint)',
        f'python tools/test.py {CONFIG} $(cat work_dirs/ov-dvis/last_checkpoint)'],
        notes='online_tracker: the open-vocabulary toy Mask2Former + OnlineMaskTracker; '
              'ov_dvis: the same frozen segmenter + the referring tracker (text classifier, '
              '600 steps on pseudo videos of the base-class images); random_classifier: the '
              'DVIS tracks relabelled uniformly among the 16 thing classes (seeds 0, 1, 2)')
    best_random = {k: max(r[k] for r in random) for k in random[0]}
    assert dvis['VPQ_novel'] > best_random['VPQ_novel']
    assert dvis['STQ_novel'] > best_random['STQ_novel']
    assert dvis['VPQ_novel'] >= NOVEL_VPQ_FLOOR and dvis['STQ_novel'] >= NOVEL_STQ_FLOOR
    assert dvis['VPQ_base'] >= BASE_VPQ_FLOOR
    assert dvis['VPQ_novel'] >= OF_TRACKER * tracker['VPQ_novel']
