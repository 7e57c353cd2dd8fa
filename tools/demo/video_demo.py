"""Video panoptic demo: frames or a video in, frames or a video out.

    python tools/demo/video_demo.py INPUT CONFIG CHECKPOINT --out OUT [--fps 5] [--scale 3]
        [--classes "person,car,road,sky" --things "person,car"]
        [--pred-out DIR [--categories categories.json] [--video-name NAME]]

INPUT is a folder of frames (``*.png`` / ``*.jpg``, taken in name order), a
video file or a camera index; frames are read, segmented and written one at a
time (``mmpanoptic.apis.VideoInferencer``: constant memory; frames/s on the
progress bar); OUT is a folder (one picture per frame) or a ``.mp4`` / ``.avi``
file. CONFIG is a video config (an image model + a tracker), e.g.
``configs/video/mask2former_r18_online-tracker_toy-video.py``. Every tracked
instance is drawn in a color (and with an ``#id``) that follows its track id.

``--classes`` / ``--things``: an open vocabulary for a video model whose
image model has a text classifier (e.g.
``configs/video/mask2former_r18_text-minilm_online-tracker_toy-video.py``);
ids stay consistent across frames, no retraining.

``--pred-out DIR`` also writes every frame's prediction in the STEP layout
(``DIR/<video>/<frame>.png``: R = category id, G * 256 + B = track id) and
``DIR/categories.json`` (the vocabulary used), which
``tools/analysis_tools/video_eval.py --layout step --pred DIR --categories
DIR/categories.json --gt GT_DIR`` scores.  ``<video>`` is ``--video-name``
(default: the input's name), ``<frame>`` the frame file's name (a folder)
or the frame index as six digits.  Category ids are the label indices (a
converted hub checkpoint: its label ids), or with ``--categories FILE`` (a
dataset's category list) its ids matched by class name, so the files score
against that dataset's ground truth.
"""
import argparse
import itertools
import os
import os.path as osp

import cv2
import torch
from tqdm import tqdm

from mmpanoptic.apis import StepPredictionWriter, VideoInferencer, match_category_ids
from mmpanoptic.fileio import load_categories
from mmpanoptic.visualization.panoptic import draw_panoptic


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('input', help='a folder of frames, a video file or a camera index (0)')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--out', required=True, help='output folder or .mp4 / .avi file')
    p.add_argument('--fps', type=float, default=5.0)
    p.add_argument('--scale', type=int, default=1, help='upscale pictures (small frames)')
    p.add_argument('--max-frames', type=int, default=None, help='stop after this many frames')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--classes', help='comma-separated class names (open vocabulary; synonyms '
                   'joined by /)')
    p.add_argument('--things', help='comma-separated names of the thing classes')
    p.add_argument('--pred-out', help='also write the predictions here in the STEP layout')
    p.add_argument('--categories', help="with --pred-out: a dataset's categories JSON whose ids "
                   'to write (matched by class name)')
    p.add_argument('--video-name', help='with --pred-out: the video folder name (default: '
                   "the input's name)")
    args = p.parse_args(argv)
    if args.things and not args.classes:
        raise SystemExit('error: --things needs --classes')
    if (args.categories or args.video_name) and not args.pred_out:
        raise SystemExit('error: --categories and --video-name go with --pred-out')

    try:
        inferencer = VideoInferencer(args.config, args.checkpoint, device=args.device,
                                     classes=args.classes, things=args.things)
        writer_step = None
        if args.pred_out:
            ids = inferencer.category_ids  # a converted hub checkpoint's label ids
            if args.categories:
                ids = match_category_ids(inferencer.classes, load_categories(args.categories),
                                         args.categories)
            writer_step = StepPredictionWriter(args.pred_out, inferencer.classes,
                                               inferencer.num_things, ids)
            video_name = args.video_name or (
                osp.splitext(osp.basename(osp.normpath(args.input)))[0]
                if not args.input.isdigit() else f'camera{args.input}')
        results = inferencer(args.input, max_frames=args.max_frames)
        first = next(results, None)  # opens the source: errors surface here
    except (OSError, ValueError, TypeError) as e:  # PanopticError is a ValueError
        raise SystemExit(f'error: {e}')
    video_out = args.out.lower().endswith(('.mp4', '.avi'))
    if not video_out:
        os.makedirs(args.out, exist_ok=True)
    writer = None
    total = inferencer.num_frames
    if args.max_frames is not None and total is not None:
        total = min(total, args.max_frames)
    bar = tqdm(total=total, unit='frame')
    t = -1
    for result in itertools.chain([first] if first is not None else [], results):
        t = result['frame']
        if writer_step is not None:
            writer_step.write(video_name, result['name'], result)
        picture = draw_panoptic(result['image'], result['ids'], result['segments_info'],
                                inferencer.classes, inferencer.palette, scale=args.scale,
                                title=f'frame {t}', color_by_id=True)
        if video_out:
            if writer is None:
                fourcc = cv2.VideoWriter_fourcc(*('mp4v' if args.out.endswith('.mp4')
                                                  else 'MJPG'))
                writer = cv2.VideoWriter(args.out, fourcc, args.fps,
                                         (picture.shape[1], picture.shape[0]))
            writer.write(picture[..., ::-1])
        else:
            cv2.imwrite(osp.join(args.out, f'{t:06d}.jpg'), picture[..., ::-1])
        bar.update()
        bar.set_postfix(fps=f'{inferencer.fps:.1f}')
    bar.close()
    if writer is not None:
        writer.release()
    print(f'{t + 1} frames written to {args.out} ({inferencer.fps or 0:.2f} frames/s, model '
          'and drawing)')
    if writer_step is not None:
        print(f'predictions in the STEP layout: {osp.join(args.pred_out, video_name)}, '
              f'categories: {osp.join(args.pred_out, "categories.json")}')


if __name__ == '__main__':
    main()
