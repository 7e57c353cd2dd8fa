"""Video panoptic demo: frames or a video in, frames or a video out.

    python tools/demo/video_demo.py INPUT CONFIG CHECKPOINT --out OUT [--fps 5] [--scale 3]

INPUT is a folder of frames (``*.png`` / ``*.jpg``, taken in name order) or a
video file; OUT is a folder (one picture per frame) or a ``.mp4`` / ``.avi``
file. CONFIG is a video config (an image model + a tracker), e.g.
``configs/video/mask2former_r18_online-tracker_toy-video.py``. Every tracked
instance is drawn in a color (and with an ``#id``) that follows its track id.
"""
import argparse
import glob
import os
import os.path as osp

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.runner import load_checkpoint
from tqdm import tqdm

from mmpanoptic.apis import inference_pipeline
from mmpanoptic.registry import MODELS
from mmpanoptic.utils import register_all_modules
from mmpanoptic.visualization.panoptic import draw_panoptic


def open_frames(path):
    """``(number of frames or None, iterator of RGB frames)`` of a folder of
    pictures or a video file.  Frames are read one at a time (streamed): a
    long video is never held in memory."""
    if osp.isdir(path):
        files = sorted(f for ext in ('png', 'jpg', 'jpeg') for f in
                       glob.glob(osp.join(path, f'*.{ext}')))
        if not files:
            raise SystemExit(f'error: no .png / .jpg frames in {path}')

        def pictures():
            for f in files:
                frame = cv2.imread(f)
                if frame is None:
                    raise SystemExit(f'error: cannot read frame {f}')
                yield frame[..., ::-1]
        return len(files), pictures()
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise SystemExit(f'error: cannot open {path} as a folder of frames or a video')
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None

    def video():
        try:
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                yield frame[..., ::-1]
        finally:
            cap.release()
    return count, video()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('input')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--out', required=True, help='output folder or .mp4 / .avi file')
    p.add_argument('--fps', type=float, default=5.0)
    p.add_argument('--scale', type=int, default=1, help='upscale pictures (small frames)')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = p.parse_args(argv)

    register_all_modules()
    cfg = Config.fromfile(args.config)
    model = MODELS.build(cfg.model)
    ckpt = load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.to(args.device).eval()
    meta = ckpt.get('meta', {}).get('dataset_meta')
    if not meta:
        raise SystemExit(f'error: {args.checkpoint} has no dataset_meta (class names)')
    pipeline = inference_pipeline(cfg)
    video_out = args.out.lower().endswith(('.mp4', '.avi'))
    if not video_out:
        os.makedirs(args.out, exist_ok=True)
    writer = None
    count, frames = open_frames(args.input)
    bar = tqdm(total=count, unit='frame')
    t = -1
    for t, frame in enumerate(frames):
        packed = pipeline(dict(img=np.ascontiguousarray(frame[..., ::-1]), img_id=t,
                               video_id=0, frame_id=t))
        with torch.no_grad():
            sample = model.test_step(pseudo_collate([packed]))[0]
        pred = sample.pred_panoptic_seg
        picture = draw_panoptic(frame, pred.sem_seg[0].cpu().numpy(), pred.segments_info,
                                meta['classes'], meta['palette'], scale=args.scale,
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
    bar.close()
    if writer is not None:
        writer.release()
    print(f'{t + 1} frames written to {args.out}')


if __name__ == '__main__':
    main()
