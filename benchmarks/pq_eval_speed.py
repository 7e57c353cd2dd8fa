"""PQ evaluation speed: ours against the official panopticapi, hotcoco and mmdet.

    python benchmarks/pq_eval_speed.py [--num-images 200] [--nproc N] [--data-dir DIR]
        [--metric-images 100] [--json out.json]

Generates (or reuses) COCO-sized image pairs (480x640, ~20 segments each, with
VOID borders, crowd regions, wrong labels, merges and shifted boundaries),
then times in one run, on the same files:

- PNG decoding alone (both PNGs): PIL (panopticapi's decoder), OpenCV,
  pyspng (libspng, ours) and imagecodecs;
- whole evaluations as a new user runs them, start-up to exit, each in a
  fresh process: our CLI ``tools/analysis_tools/pq_eval.py`` with ``--nproc 1``
  and ``--nproc N``; the official panopticapi (``panopticapi-lite``)
  ``pq_compute_single_core`` and its multi-core ``pq_compute``; hotcoco with one
  thread (``RAYON_NUM_THREADS=1``) and N threads;
- the runner metrics on the same in-memory predictions: mmdet's
  ``CocoPanopticMetric`` (writes each prediction as a PNG and reads both back
  into panopticapi's per-image code) against our ``PanopticQualityMetric``.

It checks that every peer's PQ / SQ / RQ (splits and every class) equals
ours to 1e-9 and prints the ratios against the targets of issue 17.  Needs the
test extras (``hotcoco``, ``panopticapi-lite``); a missing peer is reported
and skipped.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from mmpanoptic.structures import id2rgb, mask_bbox  # noqa: E402

CATEGORIES = [dict(id=i + 1, name=f'c{i + 1}', isthing=int(i < 12)) for i in range(24)]


def _voronoi(seeds, h, w):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.stack([(xx - x)**2 + (yy - y)**2 for x, y in seeds])
    part = np.partition(d, 1, axis=0)
    return d.argmin(0), np.sqrt(part[1]) - np.sqrt(part[0])


def _segments(ids, cats, crowd):
    out = []
    for sid in np.unique(ids):
        if sid == 0:
            continue
        m = ids == sid
        out.append(
            dict(id=int(sid),
                 category_id=int(cats[sid]),
                 iscrowd=int(crowd.get(sid, 0)),
                 area=int(m.sum()),
                 bbox=mask_bbox(m)))
    return out


def make_pairs(root, n, h, w, num_segments, seed=0):
    """Write gt/ and pred/ PNGs plus gt.json and pred.json under root."""
    rng = np.random.default_rng(seed)
    for sub in ('gt', 'pred'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    gt_anns, pred_anns, images = [], [], []
    for k in range(n):
        name = f'{k + 1:012d}.png'
        seeds = rng.uniform([0, 0], [w, h], (num_segments, 2))
        lab, margin = _voronoi(seeds, h, w)
        gt_ids_of = rng.choice(np.arange(1, 256**3), num_segments, replace=False)
        gt = gt_ids_of[lab]
        gt[margin < 2.0] = 0  # VOID borders, as in COCO
        cats = {int(i): int(rng.integers(1, 25)) for i in gt_ids_of}
        crowd = {int(i): int(rng.random() < 0.05 and cats[int(i)] <= 12) for i in gt_ids_of}
        # Prediction: shifted seeds, some merges, some wrong labels, some VOID.
        pseeds = seeds + rng.normal(0, 12, seeds.shape)
        plab, _ = _voronoi(pseeds, h, w)
        merge = rng.random(num_segments) < 0.1
        plab = np.where(merge[plab], (plab + 1) % num_segments, plab)
        pred_ids_of = rng.choice(np.arange(1, 256**3), num_segments, replace=False)
        pred = pred_ids_of[plab]
        pred[rng.random((h, w)) < 0.002] = 0
        pcats = {
            int(p): (cats[int(g)] if rng.random() > 0.15 else int(rng.integers(1, 25)))
            for p, g in zip(pred_ids_of, gt_ids_of)
        }
        Image.fromarray(id2rgb(gt)).save(osp.join(root, 'gt', name))
        Image.fromarray(id2rgb(pred)).save(osp.join(root, 'pred', name))
        images.append(dict(id=k + 1, file_name=name.replace('.png', '.jpg'), height=h, width=w))
        gt_anns.append(
            dict(image_id=k + 1, file_name=name, segments_info=_segments(gt, cats, crowd)))
        pred_anns.append(
            dict(image_id=k + 1,
                 file_name=name,
                 segments_info=[{
                     k2: v
                     for k2, v in s.items() if k2 in ('id', 'category_id')
                 } for s in _segments(pred, pcats, {})]))
    json.dump(dict(images=images, annotations=gt_anns, categories=CATEGORIES),
              open(osp.join(root, 'gt.json'), 'w'))
    json.dump(dict(annotations=pred_anns), open(osp.join(root, 'pred.json'), 'w'))


def best_of(fn, repeat):
    best, out = float('inf'), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def run_process(code, env=None):
    """Wall time of ``python -c code`` from start to exit, and its last stdout line."""
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True,
                          text=True, env=dict(os.environ, **(env or {})))
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return wall, proc.stdout.strip().splitlines()[-1]


def ours_cli(root, nproc, out):
    return (f'import runpy, sys\n'
            f'sys.argv = ["pq_eval.py", "--gt-json", "{root}/gt.json", "--gt-dir", "{root}/gt", '
            f'"--pred-json", "{root}/pred.json", "--pred-dir", "{root}/pred", "--nproc", '
            f'"{nproc}", "--no-progress", "--no-classwise", "--out", "{out}"]\n'
            f'runpy.run_path("tools/analysis_tools/pq_eval.py", run_name="__main__")\n'
            f'print("DONE")')


def panopticapi_cli(root, nproc, out):
    """The official code as a user calls it; the single-core path is its
    ``pq_compute_single_core`` on every image (what ``pq_compute`` runs per core)."""
    return f"""
import contextlib, io, json
from panopticapi.evaluation import pq_compute, pq_compute_single_core
root = {root!r}
with contextlib.redirect_stdout(io.StringIO()):
    if {nproc} == 1:
        gt = json.load(open(root + '/gt.json')); pred = json.load(open(root + '/pred.json'))
        cats = {{c['id']: c for c in gt['categories']}}
        preds = {{a['image_id']: a for a in pred['annotations']}}
        stat = pq_compute_single_core(0, [(a, preds[a['image_id']]) for a in gt['annotations']],
                                      root + '/gt', root + '/pred', cats)
        res = {{}}
        for name, isthing in (('All', None), ('Things', True), ('Stuff', False)):
            res[name], per = stat.pq_average(cats, isthing=isthing)
            if name == 'All':
                res['per_class'] = per
    else:
        res = pq_compute(root + '/gt.json', root + '/pred.json', root + '/gt', root + '/pred')
json.dump(res, open({out!r}, 'w'))
print('DONE')
"""


def hotcoco_cli(root, out):
    return f"""
import contextlib, io, json
from hotcoco import panoptic
root = {root!r}
e = panoptic.PanopticEval(root + '/gt.json', root + '/pred.json', gt_folder=root + '/gt',
                          pred_folder=root + '/pred')
with contextlib.redirect_stdout(io.StringIO()):
    e.run()
r = e.results()
json.dump({{k: r[k] for k in ('All', 'Things', 'Stuff', 'per_class')}}, open({out!r}, 'w'),
          default=float)
print('DONE')
"""


def max_difference(a, b):
    """Largest |difference| of PQ / SQ / RQ over splits and classes present in both."""
    worst = 0.0
    for split in ('All', 'Things', 'Stuff'):
        for k in ('pq', 'sq', 'rq'):
            worst = max(worst, abs(a[split][k] - b[split][k]))
    pa, pb = a['per_class'], b['per_class']
    for cat, r in pa.items():
        other = pb.get(cat, pb.get(str(cat), pb.get(int(cat) if str(cat).isdigit() else cat)))
        if other is None or min(r['pq'], other['pq']) < 0:  # hotcoco: -1 for absent classes
            continue
        for k in ('pq', 'sq', 'rq'):
            worst = max(worst, abs(r[k] - other[k]))
    return worst


def metric_samples(root, n):
    """The first n images as runner data samples, in both metrics' formats."""
    from mmpanoptic.structures import rgb2id
    gt_json = json.load(open(osp.join(root, 'gt.json')))
    preds = {a['image_id']: a for a in json.load(open(osp.join(root, 'pred.json')))['annotations']}
    classes = [c['name'] for c in CATEGORIES]
    label_of = {c['id']: k for k, c in enumerate(CATEGORIES)}
    ours, theirs = [], []
    import torch
    for ann in gt_json['annotations'][:n]:
        pred = preds[ann['image_id']]
        pred_ids = rgb2id(np.asarray(Image.open(osp.join(root, 'pred', pred['file_name']))))
        gt_ids = rgb2id(np.asarray(Image.open(osp.join(root, 'gt', ann['file_name']))))
        segs = [dict(id=int(s['id']), label=label_of[s['category_id']])
                for s in pred['segments_info']]
        # mmdet's encoding: label + instance * 1000, VOID = num_classes.
        pan = np.full(pred_ids.shape, len(classes), np.int64)
        for k, s in enumerate(segs):
            pan[pred_ids == s['id']] = s['label'] + 1000 * (k + 1)
        img_path = osp.join(root, 'img', ann['file_name'].replace('.png', '.jpg'))
        common = dict(img_id=ann['image_id'], img_path=img_path, ori_shape=pred_ids.shape)
        theirs.append(dict(common, pred_panoptic_seg=dict(sem_seg=torch.from_numpy(pan[None]))))
        ours.append(dict(common, pred_panoptic_seg=dict(sem_seg=torch.from_numpy(pred_ids[None]),
                                                        segments_info=segs),
                         gt_panoptic_seg=dict(sem_seg=torch.from_numpy(gt_ids[None]),
                                              segments_info=ann['segments_info'])))
    meta = dict(classes=classes, thing_classes=classes[:12], stuff_classes=classes[12:],
                category_ids=[c['id'] for c in CATEGORIES],
                isthing=[c['isthing'] for c in CATEGORIES])
    sub = dict(gt_json, annotations=gt_json['annotations'][:n],
               images=gt_json['images'][:n])
    sub_path = osp.join(root, f'gt_first{n}.json')
    json.dump(sub, open(sub_path, 'w'))
    return ours, theirs, meta, sub_path


def time_metrics(root, n, repeat):
    """mmdet's CocoPanopticMetric vs ours on the same n in-memory predictions."""
    import logging

    from mmdet.evaluation import CocoPanopticMetric
    from mmengine.logging import MMLogger

    from mmpanoptic.evaluation import PanopticQualityMetric
    MMLogger.get_instance('mmengine', log_level=logging.WARNING)
    ours_samples, their_samples, meta, sub_path = metric_samples(root, n)

    def run_theirs():
        m = CocoPanopticMetric(ann_file=sub_path, seg_prefix=osp.join(root, 'gt'),
                               classwise=False, nproc=1)
        m.dataset_meta = meta
        for s in their_samples:
            m.process({}, [s])
        return m.compute_metrics(m.results)

    def run_ours():
        m = PanopticQualityMetric(classwise=False)
        m.dataset_meta = meta
        for s in ours_samples:
            m.process({}, [s])
        return m.compute_metrics(m.results)

    t_theirs, r_theirs = best_of(run_theirs, repeat)
    t_ours, r_ours = best_of(run_ours, repeat)
    diff = max(abs(r_ours[k] - r_theirs[k]) for k in ('PQ', 'SQ', 'RQ', 'PQ_th', 'PQ_st'))
    return t_theirs, t_ours, diff


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--num-images', type=int, default=200)
    p.add_argument('--height', type=int, default=480)
    p.add_argument('--width', type=int, default=640)
    p.add_argument('--segments', type=int, default=20)
    p.add_argument('--nproc', type=int, default=os.cpu_count())
    p.add_argument('--repeat', type=int, default=3, help='best of N timings')
    p.add_argument('--metric-images', type=int, default=100,
                   help='images for the runner-metric comparison')
    p.add_argument('--data-dir', help='reuse / keep the generated pairs here')
    p.add_argument('--json', help='also write the figures here')
    args = p.parse_args()

    root = args.data_dir or tempfile.mkdtemp(prefix='pq_bench_')
    if not osp.isfile(osp.join(root, 'pred.json')):
        t = time.perf_counter()
        make_pairs(root, args.num_images, args.height, args.width, args.segments)
        print(f'generated {args.num_images} pairs in {root} ({time.perf_counter() - t:.1f} s)')
    n = len(json.load(open(osp.join(root, 'gt.json')))['annotations'])
    files = [osp.join(root, sub, f) for sub in ('gt', 'pred')
             for f in sorted(os.listdir(osp.join(root, sub)))]
    blobs = [open(f, 'rb').read() for f in files]
    fig = dict(images=n, size=f'{args.height}x{args.width}', nproc=args.nproc,
               numpy=np.__version__, decode_s={}, wall_s={}, max_diff={})

    # 1. decoders, in this process.
    import io

    import cv2
    decoders = {'PIL': lambda: [np.asarray(Image.open(io.BytesIO(b))) for b in blobs],
                'OpenCV': lambda: [cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_COLOR)
                                   for b in blobs]}
    for name, module, call in (('pyspng', 'pyspng', lambda m, b: m.load(b, 'RGB')),
                               ('imagecodecs', 'imagecodecs', lambda m, b: m.png_decode(b))):
        try:
            mod = __import__(module)
            decoders[name] = lambda mod=mod, call=call: [call(mod, b) for b in blobs]
        except ImportError:
            print(f'  ({name} not installed: skipped)')
    for name, fn in decoders.items():
        fig['decode_s'][name] = best_of(fn, args.repeat)[0]

    # 2. whole evaluations, start-up to exit, round-robin so drifts hit all alike.
    tmp = tempfile.mkdtemp(prefix='pq_bench_out_')
    runs = {'ours --nproc 1': (ours_cli(root, 1, f'{tmp}/ours1.json'), None, 'ours1'),
            f'ours --nproc {args.nproc}': (ours_cli(root, args.nproc, f'{tmp}/oursn.json'), None,
                                           'oursn')}
    try:
        import panopticapi  # noqa: F401
        runs['panopticapi 1 core'] = (panopticapi_cli(root, 1, f'{tmp}/api1.json'), None, 'api1')
        runs[f'panopticapi pq_compute ({os.cpu_count()} proc)'] = (
            panopticapi_cli(root, 0, f'{tmp}/apin.json'), None, 'apin')
    except ImportError:
        print('  (panopticapi-lite not installed: skipped)')
    try:
        import hotcoco  # noqa: F401
        runs['hotcoco 1 thread'] = (hotcoco_cli(root, f'{tmp}/hot1.json'),
                                    dict(RAYON_NUM_THREADS='1'), 'hot1')
        runs[f'hotcoco {args.nproc} threads'] = (hotcoco_cli(root, f'{tmp}/hotn.json'),
                                                 dict(RAYON_NUM_THREADS=str(args.nproc)), 'hotn')
    except ImportError:
        print('  (hotcoco not installed: skipped)')
    best = {k: float('inf') for k in runs}
    for _ in range(args.repeat):
        for name, (code, env, _) in runs.items():
            best[name] = min(best[name], run_process(code, env)[0])
    fig['wall_s'] = best

    def load(tag):
        r = json.load(open(f'{tmp}/{tag}.json'))
        r['per_class'] = {str(k): v for k, v in r['per_class'].items()}
        return r
    ours1 = load('ours1')
    for name, (_, _, tag) in runs.items():
        fig['max_diff'][name] = max_difference(load(tag), ours1)

    # 3. runner metrics.
    if args.metric_images:
        try:
            t_mmdet, t_metric, diff = time_metrics(root, min(args.metric_images, n), args.repeat)
            fig['metric_s'] = {'mmdet CocoPanopticMetric': t_mmdet,
                               'ours PanopticQualityMetric': t_metric}
            fig['max_diff']['mmdet CocoPanopticMetric (percent)'] = diff
        except ImportError as e:
            print(f'  (runner metric comparison skipped: {e})')

    ms = lambda t, k=n: 1000 * t / k  # noqa: E731
    print(f'\n{n} COCO-sized pairs ({args.height}x{args.width}, ~{args.segments} segments), '
          f'{os.cpu_count()} cores, numpy {np.__version__}')
    print('\nPNG decoding, both PNGs (in process)   total s   ms/image')
    for name, t in fig['decode_s'].items():
        print(f'  {name:36s} {t:7.3f}   {ms(t):7.2f}')
    print('\nwhole evaluation, start-up to exit    wall s   ms/image   max |diff| vs ours')
    for name, t in fig['wall_s'].items():
        print(f'  {name:36s} {t:7.3f}   {ms(t):7.2f}   {fig["max_diff"][name]:.1e}')
    if 'metric_s' in fig:
        k = min(args.metric_images, n)
        print(f'\nrunner metric, {k} in-memory predictions   total s   ms/image')
        for name, t in fig['metric_s'].items():
            print(f'  {name:36s} {t:7.3f}   {ms(t, k):7.2f}')
        print(f'  max |diff| of PQ/SQ/RQ/PQ_th/PQ_st (percent): '
              f'{fig["max_diff"]["mmdet CocoPanopticMetric (percent)"]:.1e}')

    w = fig['wall_s']
    ours1_t, oursn_t = w['ours --nproc 1'], w[f'ours --nproc {args.nproc}']
    checks = []
    if 'hotcoco 1 thread' in w:
        r = ours1_t / w['hotcoco 1 thread']
        checks.append(('ours --nproc 1 / hotcoco 1 thread', r, '<= 2', r <= 2))
    if 'panopticapi 1 core' in w:
        r = w['panopticapi 1 core'] / ours1_t
        checks.append(('panopticapi 1 core / ours --nproc 1', r, '>= 4', r >= 4))
    r = ours1_t / oursn_t
    checks.append((f'ours --nproc 1 / --nproc {args.nproc}', r, 'scales', r > 1.3))
    if 'metric_s' in fig:
        r = fig['metric_s']['mmdet CocoPanopticMetric'] / fig['metric_s'][
            'ours PanopticQualityMetric']
        checks.append(('mmdet metric / ours (runner)', r, '>= 10', r >= 10))
    if 'pyspng' in fig['decode_s']:
        r = ours1_t / fig['decode_s']['pyspng']
        checks.append(('ours --nproc 1 / pyspng decode alone', r, 'info', True))
    same = all(v <= 1e-9 for v in fig['max_diff'].values())
    checks.append(('numbers equal to every peer (1e-9)', float(same), 'True', same))
    print()
    for name, ratio, target, ok in checks:
        print(f'  {name:40s} {ratio:6.2f}  target {target:7s} {"OK" if ok else "MISSED"}')
    fig['checks'] = {name: dict(value=ratio, target=target, ok=bool(ok))
                     for name, ratio, target, ok in checks}
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(fig, f, indent=1)
    from mmpanoptic.testing.results import write_result
    fig.update(num_images=n, height=args.height, width=args.width, nproc=args.nproc,
               numpy=np.__version__)
    print('figures ->', write_result('pq_eval_speed', fig,
                                     ['python', 'benchmarks/pq_eval_speed.py', *sys.argv[1:]]))
    if not same:
        sys.exit('results differ from a peer')


if __name__ == '__main__':
    main()
