"""Video panoptic demo: frames or a video in, frames or a video out.

    python tools/demo/video_demo.py INPUT CONFIG CHECKPOINT --out OUT [--fps 5] [--scale 3]

INPUT is a folder of frames (``*.png`` / ``*.jpg``, taken in name order), a
video file or a camera index; frames are read, segmented and written one at a
time (``mmpanoptic.apis.VideoInferencer``: constant memory; frames/s on the
progress bar); OUT is a folder (one picture per frame) or a ``.mp4`` / ``.avi``
file. CONFIG is a video config (an image model + a tracker), e.g.
``configs/video/mask2former_r18_online-tracker_toy-video.py``. Every tracked
instance is drawn in a color (and with an ``#id``) that follows its track id.
"""
import argparse
import itertools
import os
import os.path as osp

import cv2
import torch
from tqdm import tqdm

from mmpanoptic.apis import VideoInferencer
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
    args = p.parse_args(argv)

    try:
        inferencer = VideoInferencer(args.config, args.checkpoint, device=args.device)
        results = inferencer(args.input, max_frames=args.max_frames)
        first = next(results, None)  # opens the source: errors surface here
    except (OSError, ValueError) as e:
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


if __name__ == '__main__':
    main()
