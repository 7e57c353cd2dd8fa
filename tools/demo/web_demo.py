"""A local web page to try a model: upload an image or a short video, type
class names, see the overlay and the segments (and, for video, the tracks).

    python tools/demo/web_demo.py CONFIG CHECKPOINT [--port 7860] [--host 127.0.0.1] \\
        [--things "car,person" --stuff "road,sky"] [--max-frames 120] [--device cpu]

then open http://127.0.0.1:7860 in a browser.  CONFIG is an image config
(``configs/*``) or a video config (``configs/video/*``: ids stay the same for
the same object across frames); with a text classifier
(``configs/open_vocab/``, ``configs/video/*text*``) the page segments any
class typed into its two boxes (things have instances, stuff does not), with
no retraining.  A closed-vocabulary model shows its own classes there.

The page is a Gradio app (``pip install gradio``, part of the ``tests``
extra).  The model runs on the server process, one request at a time.
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

SEGMENT_HEADERS = ['id', 'class', 'kind', 'area (px)', 'score']
TRACK_HEADERS = ['track id', 'class', 'frames', 'first frame', 'last frame', 'mean area (px)']


class DemoError(ValueError):
    """A message for the page's status line (the user's input, not a bug)."""


def split_names(text: Optional[str]) -> List[str]:
    return [s.strip() for s in (text or '').split(',') if s.strip()]


def read_upload(path: Optional[str], max_frames: int) -> Tuple[str, List[np.ndarray]]:
    """``('image', [rgb])`` or ``('video', frames)`` from an uploaded file;
    an unreadable file or a video longer than ``max_frames`` is a
    :class:`DemoError` naming the file."""
    import cv2
    if not path:
        raise DemoError('Upload an image or a video first.')
    name = osp.basename(path)
    if not osp.isfile(path) or osp.getsize(path) == 0:
        raise DemoError(f'{name}: the file is empty or missing.')
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is not None:
        return 'image', [np.ascontiguousarray(bgr[..., ::-1])]
    cap = cv2.VideoCapture(path)
    try:
        if not cap.isOpened():
            raise DemoError(f'{name}: cannot read this file as an image or a video '
                            '(images: png / jpg / bmp; videos: what OpenCV reads, e.g. mp4 / avi).')
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        if count > max_frames:
            raise DemoError(f'{name}: the video has {count} frames; this demo runs the model on '
                            f'at most {max_frames} (start it with --max-frames to change that).')
        frames = []
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            if len(frames) == max_frames:
                raise DemoError(f'{name}: the video has more than {max_frames} frames; this '
                                f'demo runs the model on at most {max_frames} (--max-frames).')
            frames.append(np.ascontiguousarray(bgr[..., ::-1]))
    finally:
        cap.release()
    if not frames:
        raise DemoError(f'{name}: cannot read this file as an image or a video (no frame '
                        'decoded).')
    return 'video', frames


def segment_rows(segments: Sequence[Dict]) -> List[list]:
    return [[s['id'], s['category'], 'thing' if s['isthing'] else 'stuff', int(s['area']),
             round(float(s['score']), 3) if s.get('score') is not None else '']
            for s in sorted(segments, key=lambda s: -s['area'])]


def track_rows(results: Sequence[Dict]) -> List[list]:
    """One row per thing track of a video: its class, how many frames it is
    in, the first and the last, its mean area."""
    tracks: Dict[int, dict] = {}
    for r in results:
        for s in r['segments_info']:
            if not s['isthing']:
                continue
            t = tracks.setdefault(s['id'], dict(category=s['category'], frames=[], areas=[]))
            t['frames'].append(r['frame'])
            t['areas'].append(s['area'])
    return [[i, t['category'], len(t['frames']), t['frames'][0], t['frames'][-1],
             int(round(float(np.mean(t['areas']))))] for i, t in sorted(tracks.items())]


class WebDemo:
    """The page's logic, apart from Gradio: one model (image or video
    config), :meth:`run` on an uploaded file and the typed vocabulary."""

    def __init__(self, config: str, checkpoint: Optional[str], *, device: str = 'cpu',
                 things: Optional[str] = None, stuff: Optional[str] = None,
                 max_frames: int = 120) -> None:
        from mmengine.config import Config

        from mmpanoptic.apis import PanopticInferencer, VideoInferencer
        self.config = config
        self.max_frames = max_frames
        cfg = Config.fromfile(config)
        self.is_video = 'detector' in cfg.model
        classes = None
        if things or stuff:
            classes = split_names(things) + split_names(stuff)
        kwargs = dict(device=device, classes=classes or None, things=split_names(things) or None)
        self.inferencer = (VideoInferencer if self.is_video else PanopticInferencer)(
            cfg, checkpoint, **kwargs)
        model = self.inferencer.model
        image_model = model.detector if self.is_video else model
        self.open_vocabulary = bool(getattr(image_model, 'text_classifiers', lambda: [])())
        if self.is_video and getattr(self.inferencer, 'needs_whole_video', False):
            self.kind = 'video model (offline: refines the whole video)'
        else:
            self.kind = 'video model (online tracking)' if self.is_video else 'image model'
        self.vocabulary = self._current()

    def _current(self) -> Tuple[str, str]:
        classes = list(self.inferencer.classes)
        n = self.inferencer.num_things
        return ', '.join(classes[:n]), ', '.join(classes[n:])

    def set_vocabulary(self, things: str, stuff: str) -> None:
        """Switch the model to the typed classes (open vocabulary), or check
        that a closed model's classes were left as they are."""
        thing_names, stuff_names = split_names(things), split_names(stuff)
        if not thing_names and not stuff_names:
            raise DemoError('The vocabulary is empty: type at least one class name (things, '
                            'stuff or both, separated by commas).')
        if (', '.join(thing_names), ', '.join(stuff_names)) == self.vocabulary:
            return
        if not self.open_vocabulary:
            raise DemoError(f'{osp.basename(self.config)} has a fixed class layer: it segments '
                            'only its own classes (shown in the boxes). Use an open-vocabulary '
                            'config (configs/open_vocab/, configs/video/*text*) to type others.')
        try:
            self.inferencer.set_vocabulary(thing_names + stuff_names, thing_names or None)
        except ValueError as e:
            raise DemoError(f'Vocabulary: {e}') from None
        self.vocabulary = self._current()

    def run(self, path: Optional[str], things: str, stuff: str
            ) -> Tuple[Optional[np.ndarray], List[np.ndarray], List[list], List[list], str]:
        """(overlay of the image or of the video's first frame, overlays of
        every frame (video), segment rows, track rows (video), status)."""
        self.set_vocabulary(things, stuff)
        kind, frames = read_upload(path, self.max_frames)
        name = osp.basename(path)
        if kind == 'video' and not self.is_video:
            raise DemoError(f'{name} is a video, and {osp.basename(self.config)} is an image '
                            'model: upload an image, or start the demo with a video config '
                            '(configs/video/) to track objects across frames.')
        if self.is_video:
            results = list(self.inferencer(frames))
        else:
            results = self.inferencer(frames)
        pictures = [self._picture(r) for r in results]
        segments = segment_rows(results[0]['segments_info'])
        n_seg = len(results[0]['segments_info'])
        if kind == 'image':
            status = (f'{name}: {n_seg} segment{"s" * (n_seg != 1)} '
                      f'({results[0]["ids"].shape[1]}x{results[0]["ids"].shape[0]} px).')
            return pictures[0], [], segments, [], status
        tracks = track_rows(results)
        fps = getattr(self.inferencer, 'fps', None)
        status = (f'{name}: {len(results)} frames, {len(tracks)} tracked object'
                  f'{"s" * (len(tracks) != 1)}' + (f', {fps:.1f} frames/s.' if fps else '.') +
                  ' The segment table is the first frame\'s; ids are track ids.')
        gallery = [(p, f'frame {r["frame"]}') for p, r in zip(pictures, results)]
        return pictures[0], gallery, segments, tracks, status

    def _picture(self, result: Dict) -> np.ndarray:
        """The overlay, upscaled (nearest) when the image is small; a
        video's is coloured by track id."""
        from mmpanoptic.visualization.panoptic import draw_panoptic
        scale = int(max(1, min(4, 384 // max(result['ids'].shape))))
        return draw_panoptic(result['image'], result['ids'], result['segments_info'],
                             self.inferencer.classes, self.inferencer.palette, scale=scale,
                             title=f'frame {result["frame"]}' if self.is_video else None,
                             color_by_id=self.is_video)


def build_app(demo: WebDemo):
    """The Gradio Blocks page around ``demo``."""
    import gradio as gr

    def submit(path, things, stuff):
        try:
            overlay, gallery, segments, tracks, status = demo.run(path, things, stuff)
        except DemoError as e:
            return None, [], [], [], f'**Error:** {e}'
        return overlay, gallery, segments, tracks, status

    things0, stuff0 = demo.vocabulary
    vocab_note = ('Type any class names, separated by commas (synonyms joined by `/`).'
                  if demo.open_vocabulary else
                  'This model has a closed vocabulary: it segments the classes shown.')
    with gr.Blocks(title='mmpanoptic demo') as app:
        gr.Markdown(f'## mmpanoptic: panoptic segmentation\n`{osp.basename(demo.config)}` '
                    f'({demo.kind}). {vocab_note}')
        with gr.Row():
            with gr.Column():
                upload = gr.File(label='Image or short video', file_types=['image', 'video'],
                                 type='filepath', elem_id='upload')
                things = gr.Textbox(label='Thing classes (with instances)', value=things0,
                                    elem_id='things')
                stuff = gr.Textbox(label='Stuff classes', value=stuff0, elem_id='stuff')
                button = gr.Button('Segment', variant='primary', elem_id='segment')
            with gr.Column():
                status = gr.Markdown(elem_id='status')
                overlay = gr.Image(label='Overlay', type='numpy', interactive=False,
                                   elem_id='overlay')
        segments = gr.Dataframe(headers=SEGMENT_HEADERS, label='Segments (image, or first '
                                'frame of a video)', interactive=False, elem_id='segments')
        tracks = gr.Dataframe(headers=TRACK_HEADERS, label='Tracks (video)', interactive=False,
                              elem_id='tracks')
        gallery = gr.Gallery(label='Frames (video)', columns=6, elem_id='frames')
        button.click(submit, [upload, things, stuff],
                     [overlay, gallery, segments, tracks, status], concurrency_limit=1)
    return app


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', help='an image or a video config')
    p.add_argument('checkpoint', nargs='?', default=None,
                   help='its checkpoint (the class names come from its dataset_meta, or from '
                        '--things / --stuff for an open-vocabulary model)')
    p.add_argument('--things', help='initial thing classes (open vocabulary), comma-separated')
    p.add_argument('--stuff', help='initial stuff classes (open vocabulary), comma-separated')
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, default=7860)
    p.add_argument('--max-frames', type=int, default=120,
                   help='longest video the page accepts (frames)')
    p.add_argument('--device', default=None, help='default: cuda when available, else cpu')
    args = p.parse_args(argv)
    for path, what in ((args.config, 'config'), (args.checkpoint, 'checkpoint')):
        if path is not None and not osp.isfile(path):
            raise SystemExit(f'error: {what} not found: {path}')
    try:
        import gradio  # noqa: F401
    except ImportError:
        raise SystemExit('error: the web demo needs Gradio: pip install gradio '
                         '(or pip install -e ".[tests]")') from None
    import torch
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    try:
        demo = WebDemo(args.config, args.checkpoint, device=device, things=args.things,
                       stuff=args.stuff, max_frames=args.max_frames)
    except (ValueError, TypeError) as e:
        raise SystemExit(f'error: {e}') from None
    print(f'mmpanoptic web demo: {osp.basename(args.config)} ({demo.kind}) on {device}; '
          f'open http://{args.host}:{args.port}', flush=True)
    build_app(demo).launch(server_name=args.host, server_port=args.port, show_error=True,
                           quiet=True)


if __name__ == '__main__':
    sys.exit(main())
