"""Ours vs transformers on the same hub checkpoint, the same image and targets.

    python benchmarks/hf_model_speed.py [--models mask2former_r50 mask2former_swin-t
        eomt_vit-s eomt_vit-b] [--modes predict train] [--size 640] [--train-size SIZE]
        [--repeat 3] [--compile] [--device cpu|cuda]

For each model a transformers model of the published size (random weights
made decisive on the benchmark image, as the parity tests do, so that the
post-processing has segments to build: 30 queries with a class, the others
"no object", as a trained model gives on a COCO image) is saved as a hub folder and converted
by ``tools/model_converters/hf_to_mmpanoptic.py``; the two predictions are
checked to be the same segments first.  Then, both models in one process,
run alternately (transformers, ours, ours, transformers, ...), best of
``--repeat`` after a warm-up:

- ``predict``: network + panoptic post-processing on one ``--size`` square
  image already resized and normalised (transformers: ``model(pixel_values)``
  + ``post_process_panoptic_segmentation``; ours: ``test_step`` from the
  packed image: normalisation, network, fusion);
- ``train``: one training step (forward, loss, backward) on 2 images of
  ``--train-size`` pixels (default ``--size``; transformers' EoMT trains
  only at its ``image_size``, so EoMT always uses ``--size``) with 6 things
  and 3 stuff segments each, the same targets for both (transformers:
  ``mask_labels`` / ``class_labels``).

Peak memory: each side alone in a fresh process, as
``benchmarks/mmdet_model_speed.py`` measures it.  Ratios are transformers /
ours (>= 1: ours is as fast / as small).  ``--compile`` adds our predict time
with the network compiled (``compile_network``, what ``tools/test.py
--compile`` does) and its gain.  The EoMT rows against the Mask2Former R50 row
are the paper's comparison (same input size, a backbone of similar size).
"""
import argparse
import json
import logging
import os
import os.path as osp
import runpy
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from mmdet_model_speed import memory_mark, peak_since, training_batch  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
MODELS = ('mask2former_r50', 'mask2former_swin-t', 'eomt_vit-s', 'eomt_vit-b')
OBJECTS = 30  # queries with a class (the others "no object"), as a trained model on COCO


def coco_labels():
    from mmpanoptic.vocabularies import vocabulary_entries
    names = [e['name'] for e in vocabulary_entries('coco_panoptic')]
    return dict(enumerate(names))


def hf_model(name: str, size: int):
    """A transformers model of the published size and its image processor."""
    import transformers
    labels = coco_labels()
    common = dict(id2label=labels, label2id={v: k for k, v in labels.items()})
    if name.startswith('mask2former'):
        from transformers.models.mask2former.image_processing_pil_mask2former import (
            Mask2FormerImageProcessorPil,
        )
        stages = ['stage1', 'stage2', 'stage3', 'stage4']
        if name.endswith('r50'):
            backbone = transformers.ResNetConfig(out_features=stages)  # ResNet-50
        else:
            backbone = transformers.SwinConfig(embed_dim=96, depths=[2, 2, 6, 2],
                                               num_heads=[3, 6, 12, 24], window_size=7,
                                               out_features=stages)
        model = transformers.Mask2FormerForUniversalSegmentation(
            transformers.Mask2FormerConfig(backbone_config=backbone, **common))
        proc = Mask2FormerImageProcessorPil(size=dict(shortest_edge=size, longest_edge=size),
                                            size_divisor=32)
    else:
        from transformers.models.eomt.image_processing_pil_eomt import EomtImageProcessorPil
        width, heads = {'eomt_vit-s': (384, 6), 'eomt_vit-b': (768, 12)}[name]
        model = transformers.EomtForUniversalSegmentation(transformers.EomtConfig(
            hidden_size=width, num_hidden_layers=12, num_attention_heads=heads,
            image_size=size, patch_size=16, num_blocks=4, num_queries=200, **common))
        proc = EomtImageProcessorPil(size=dict(shortest_edge=size, longest_edge=size),
                                     do_pad=True)
    return model.eval(), proc


def prepare(name: str, size: int, folder: str) -> int:
    """Save the decisive transformers model and its conversion; check both
    give the same segments; return their number."""
    from mmpanoptic.apis import PanopticInferencer
    from mmpanoptic.testing.hf_reference import compare_segments, make_decisive
    from mmpanoptic.testing.reference import realistic_image
    torch.manual_seed(0)
    model, proc = hf_model(name, size)
    img = realistic_image(size, size, seed=1)[..., ::-1].copy()  # RGB
    make_decisive(model, proc(images=[img], return_tensors='pt')['pixel_values'],
                  num_objects=OBJECTS)
    model.save_pretrained(osp.join(folder, 'hf'))
    proc.save_pretrained(osp.join(folder, 'hf'))
    np.save(osp.join(folder, 'image.npy'), img)
    runpy.run_path(osp.join(ROOT, 'tools/model_converters/hf_to_mmpanoptic.py'))['main'](
        [osp.join(folder, 'hf'), osp.join(folder, 'ours')])
    ours = PanopticInferencer(osp.join(folder, 'ours/config.py'),
                              osp.join(folder, 'ours/weights.pth'))(img)[0]
    with torch.no_grad():
        out = model(**proc(images=[img], return_tensors='pt'))
    ref = proc.post_process_panoptic_segmentation(out, target_sizes=[img.shape[:2]])[0]
    problem = compare_segments(ours['ids'], ours['segments_info'], ref['segmentation'],
                               ref['segments_info'])
    if problem:
        raise SystemExit(f'{name}: ours and transformers differ: {problem}')
    return len(ref['segments_info'])


class Pair:
    """Both sides of one model, ready to run a predict or a training step."""

    def __init__(self, folder: str, device: str, train_size: int, sides=('hf', 'ours')):
        from transformers import AutoImageProcessor, AutoModelForUniversalSegmentation

        from mmpanoptic.apis import PanopticInferencer
        self.device = device
        self.img = np.load(osp.join(folder, 'image.npy'))
        self.hf = self.proc = self.ours = None
        if 'hf' in sides:
            try:
                self.hf = AutoModelForUniversalSegmentation.from_pretrained(
                    osp.join(folder, 'hf')).to(device).eval()
            except ValueError:  # Mask2Former registers under its own class only
                import transformers
                arch = json.load(open(osp.join(folder, 'hf', 'config.json')))['architectures'][0]
                self.hf = getattr(transformers, arch).from_pretrained(
                    osp.join(folder, 'hf')).to(device).eval()
            self.proc = AutoImageProcessor.from_pretrained(osp.join(folder, 'hf'))
            self.pixels = self.proc(images=[self.img], return_tensors='pt')['pixel_values'].to(
                device)
        inferencer = PanopticInferencer(osp.join(folder, 'ours/config.py'),
                                        osp.join(folder, 'ours/weights.pth'), device=device)
        self.inferencer = inferencer
        if 'ours' in sides:
            self.ours = inferencer.model
        from mmengine.dataset import pseudo_collate
        self.packed = pseudo_collate([inferencer.pipeline(
            dict(img=np.ascontiguousarray(self.img[..., ::-1]), img_id=0))])
        model = inferencer.model
        n_things, n_classes = model.num_things_classes, model.num_classes
        self.batches = [training_batch(2, train_size, n_things, n_classes, seed=i)
                        for i in range(8)]
        self.category_ids = inferencer.category_ids

    def _sync(self):
        if self.device == 'cuda':
            torch.cuda.synchronize()

    def run(self, side: str, mode: str, i: int = 0) -> float:
        self._sync()
        t = time.perf_counter()
        if mode == 'predict':
            with torch.no_grad():
                if side == 'hf':
                    out = self.hf(pixel_values=self.pixels)
                    self.proc.post_process_panoptic_segmentation(
                        out, target_sizes=[self.img.shape[:2]])
                else:
                    self.ours.test_step(self.packed)
        else:
            batch = self.batches[i % len(self.batches)]
            if side == 'hf':
                self.hf.train()
                pixels, masks, labels = self._hf_targets(batch)
                self.hf(pixel_values=pixels, mask_labels=masks, class_labels=labels).loss.backward()
                self.hf.zero_grad(set_to_none=True)
                self.hf.eval()
            else:
                self.ours.train()
                data = self.ours.data_preprocessor(batch, True)
                loss, _ = self.ours.parse_losses(self.ours.loss(data['inputs'],
                                                                data['data_samples']))
                loss.backward()
                self.ours.zero_grad(set_to_none=True)
                self.ours.eval()
        self._sync()
        return time.perf_counter() - t

    def _hf_targets(self, batch):
        """The same normalised pixels and segments in transformers' form
        (our labels mapped back to the checkpoint's ids)."""
        from mmpanoptic.models.criteria import batch_targets
        model = self.inferencer.model
        data = model.data_preprocessor(batch, True)
        targets = batch_targets(data['data_samples'], num_things=model.num_things_classes,
                                num_classes=model.num_classes)
        ids = torch.tensor(self.category_ids)
        return (data['inputs'], [m.float() for _, m in targets],
                [ids[lab.cpu()].to(self.device) for lab, _ in targets])


def measure_time(folder, modes, device, repeat, train_size, compile_):
    pair = Pair(folder, device, train_size)
    out = {}
    for mode in modes:
        times = {'hf': [], 'ours': []}
        for i in range(repeat + 1):
            for side in (('hf', 'ours') if i % 2 == 0 else ('ours', 'hf')):
                times[side].append(pair.run(side, mode, i))
        out[mode] = {side: min(t[1:]) for side, t in times.items()}
    if compile_ and 'predict' in modes:
        pair.ours.compile_network()
        runs = [pair.run('ours', 'predict') for _ in range(repeat + 2)]
        out['predict']['ours_compiled'] = min(runs[2:])
    return out


def measure_memory(folder, side, mode, device, train_size):
    pair = Pair(folder, device, train_size, sides=(side, ))
    pair.run(side, mode, 0)
    base = memory_mark(device)
    pair.run(side, mode, 1)
    return peak_since(base, device)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--models', nargs='+', default=list(MODELS), choices=MODELS)
    p.add_argument('--modes', nargs='+', default=['predict', 'train'],
                   choices=['predict', 'train'])
    p.add_argument('--size', type=int, default=640, help='predict input (square)')
    p.add_argument('--train-size', type=int, default=None)
    p.add_argument('--repeat', type=int, default=3)
    p.add_argument('--compile', action='store_true')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--one', nargs=4, help=argparse.SUPPRESS)  # what folder side mode
    args = p.parse_args(argv)
    args.train_size = args.train_size or args.size
    from mmengine.logging import MMLogger
    MMLogger.get_current_instance().setLevel(logging.ERROR)
    logging.getLogger('transformers').setLevel(logging.ERROR)
    if args.one:
        what, folder, side, mode = args.one
        if what == 'time':
            out = measure_time(folder, args.modes, args.device, args.repeat, args.train_size,
                               args.compile)
        else:
            out = measure_memory(folder, side, mode, args.device, args.train_size)
        print(json.dumps(out))
        return
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    memory_env = dict(env, MALLOC_MMAP_THRESHOLD_=env.get('MALLOC_MMAP_THRESHOLD_', '131072'))

    def child(*one):
        train = args.size if 'eomt' in one[1] else args.train_size
        cmd = [sys.executable, __file__, '--one', *one, '--device', args.device,
               '--repeat', str(args.repeat), '--train-size', str(train),
               '--modes', *args.modes] + (['--compile'] if args.compile else [])
        out = subprocess.run(cmd, capture_output=True, text=True,
                             env=memory_env if one[0] == 'memory' else env)
        if out.returncode:
            raise SystemExit(f'{" ".join(one)} failed:\n{out.stderr[-3000:]}')
        return json.loads(out.stdout.strip().splitlines()[-1])

    rows = {}
    tmp = tempfile.mkdtemp()
    for name in args.models:
        folder = osp.join(tmp, name)
        row = dict(segments=prepare(name, args.size, folder))
        times = child('time', folder, '-', '-')
        for mode in args.modes:
            for side in ('hf', 'ours'):
                row[f'{mode}_{side}'] = dict(
                    time_s=round(times[mode][side], 4),
                    peak_mb=round(child('memory', folder, side, mode), 1))
            h, o = row[f'{mode}_hf'], row[f'{mode}_ours']
            row[f'{mode}_speed_ratio'] = round(h['time_s'] / o['time_s'], 3)
            row[f'{mode}_memory_ratio'] = round(h['peak_mb'] / max(o['peak_mb'], 1e-6), 3)
        if 'ours_compiled' in times.get('predict', {}):
            row['predict_ours_compiled_s'] = round(times['predict']['ours_compiled'], 4)
            row['compile_gain'] = round(times['predict']['ours'] /
                                        times['predict']['ours_compiled'], 3)
        rows[name] = row
        print(name, json.dumps(row), flush=True)
    comparisons = {}
    if 'mask2former_r50' in rows and 'predict' in args.modes:
        base = rows['mask2former_r50']['predict_ours']['time_s']
        for name in ('eomt_vit-s', 'eomt_vit-b'):
            if name in rows:
                comparisons[f'{name}_vs_mask2former_r50_predict'] = round(
                    base / rows[name]['predict_ours']['time_s'], 3)
    print(f'device {args.device}, torch {torch.__version__}, {torch.get_num_threads()} threads, '
          f'predict {args.size}x{args.size}, train 2 x {args.train_size}; ratios are '
          'transformers / ours (>= 1: ours is as fast / as small)')
    print(f'{"model":20s} {"mode":8s} {"hf s":>8s} {"ours s":>8s} {"speed":>6s} '
          f'{"hf MB":>8s} {"ours MB":>8s} {"memory":>6s}')
    for name, row in rows.items():
        for mode in args.modes:
            h, o = row[f'{mode}_hf'], row[f'{mode}_ours']
            print(f'{name:20s} {mode:8s} {h["time_s"]:8.3f} {o["time_s"]:8.3f} '
                  f'{row[f"{mode}_speed_ratio"]:6.2f} {h["peak_mb"]:8.0f} {o["peak_mb"]:8.0f} '
                  f'{row[f"{mode}_memory_ratio"]:6.2f}')
        if 'compile_gain' in row:
            print(f'{name:20s} compiled predict {row["predict_ours_compiled_s"]:.3f} s '
                  f'(x{row["compile_gain"]:.2f})')
    for k, v in comparisons.items():
        print(f'{k}: {v:.2f}x')
    import transformers
    figures = dict(device=args.device, torch=torch.__version__,
                   transformers=transformers.__version__, size=args.size,
                   train_size=args.train_size, models=rows, comparisons=comparisons)
    from mmpanoptic.testing.results import write_result
    print('figures ->', write_result(f'hf_model_speed_{args.device}', figures,
                                     ['python', 'benchmarks/hf_model_speed.py',
                                      *(argv if argv is not None else sys.argv[1:])]))


if __name__ == '__main__':
    main()
