"""Write the bundled procedural video panoptic dataset.

    python tools/dataset_converters/make_toy_video.py --out data/toy_video \\
        [--num-train 40] [--num-val 6] [--num-frames 10] [--seed 0] [--open-vocab]

``--open-vocab``: the open-vocabulary toy classes in motion (colour x pattern
shapes; training videos hold the 12 base classes, validation videos all 16;
mmpanoptic.datasets.toy_open_vocab.make_toy_open_vocab_video).
"""
import argparse

from mmpanoptic.datasets import make_toy_video
from mmpanoptic.datasets.toy_open_vocab import make_toy_open_vocab_video


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', default='data/toy_video')
    p.add_argument('--num-train', type=int, default=40, help='training videos')
    p.add_argument('--num-val', type=int, default=6, help='validation videos')
    p.add_argument('--num-frames', type=int, default=10, help='frames per video')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--open-vocab', action='store_true',
                   help='colour x pattern classes, novel ones only in validation')
    args = p.parse_args(argv)
    make = make_toy_open_vocab_video if args.open_vocab else make_toy_video
    written = make(args.out, num_train=args.num_train, num_val=args.num_val,
                             num_frames=args.num_frames, seed=args.seed)
    for split, path in written.items():
        print(f'{split}: {path}')


if __name__ == '__main__':
    main()
