"""Panoptic demo on images, with an open vocabulary when the model has one.

    python tools/demo/image_demo.py IMG CONFIG CHECKPOINT --out OUT \\
        [--classes "road,sky,car,solar panel" --things "car,solar panel"] [--scale 2]

IMG is an image or a folder of images; OUT a picture path (one image) or a
folder.  ``--classes`` replaces the model's classes by any names (synonyms
joined by ``/``: ``"person/people"``); ``--things`` says which of them have
instances (the rest are stuff).  It needs a model with a text classifier
(``configs/open_vocab/``); no retraining and no config edit.  Without
``--classes`` the checkpoint's own classes are used.  A JSON file with the
segments (class, instance id, area, score) is written next to each picture.
"""
import argparse
import glob
import json
import os
import os.path as osp


def list_images(path):
    if osp.isdir(path):
        files = sorted(f for ext in ('png', 'jpg', 'jpeg', 'bmp')
                       for f in glob.glob(osp.join(path, f'*.{ext}')))
        if not files:
            raise SystemExit(f'error: no images in {path}')
        return files
    if not osp.isfile(path):
        raise SystemExit(f'error: {path} is neither an image nor a folder')
    return [path]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('input', help='image or folder of images')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--out', required=True, help='output picture (one image) or folder')
    p.add_argument('--classes', help='comma-separated class names (open vocabulary)')
    p.add_argument('--things', help='comma-separated names of the thing classes')
    p.add_argument('--scale', type=int, default=1, help='upscale pictures (small images)')
    p.add_argument('--device', default=None, help='default: cuda when available, else cpu')
    args = p.parse_args(argv)
    if args.things and not args.classes:
        raise SystemExit('error: --things needs --classes')

    for path, what in ((args.config, 'config'), (args.checkpoint, 'checkpoint')):
        if not osp.isfile(path):
            raise SystemExit(f'error: {what} not found: {path}')
    files = list_images(args.input)
    to_folder = len(files) > 1 or osp.isdir(args.input) or not osp.splitext(args.out)[1]
    if to_folder:
        os.makedirs(args.out, exist_ok=True)
    elif osp.dirname(args.out):
        os.makedirs(osp.dirname(args.out), exist_ok=True)
    # torch and OpenMMLab only now: a wrong argument fails in a fraction of a second.
    import cv2
    import torch
    from mmengine.utils import ProgressBar

    from mmpanoptic.apis import PanopticInferencer
    if args.device is None:
        args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    try:
        inferencer = PanopticInferencer(args.config, args.checkpoint, device=args.device,
                                        classes=args.classes, things=args.things)
    except (ValueError, TypeError) as e:
        raise SystemExit(f'error: {e}')
    bar = ProgressBar(len(files))
    for f in files:
        result = inferencer(f)[0]
        picture = inferencer.visualize(result, scale=args.scale, title=osp.basename(f))
        out = osp.join(args.out, osp.splitext(osp.basename(f))[0] + '.jpg') if to_folder \
            else args.out
        cv2.imwrite(out, picture[..., ::-1])
        segments = [dict(id=int(s['id']), category=s['category'], isthing=bool(s['isthing']),
                         area=int(s['area']),
                         **({'score': float(s['score'])} if 'score' in s else {}))
                    for s in result['segments_info']]
        with open(osp.splitext(out)[0] + '.json', 'w') as fh:
            json.dump(dict(image=f, classes=inferencer.classes, segments=segments), fh,
                      indent=1)
        bar.update()
    print(f'\n{len(files)} picture(s) written to {args.out}')


if __name__ == '__main__':
    main()
