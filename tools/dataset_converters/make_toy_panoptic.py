"""Write the bundled procedural panoptic dataset in COCO panoptic format.

    python tools/dataset_converters/make_toy_panoptic.py --out data/toy \\
        --num-train 200 --num-val 50

With ``--open-vocab``: the open-vocabulary variant (coloured shapes named by
colour and shape, four combinations held out of training), e.g.

    python tools/dataset_converters/make_toy_panoptic.py --open-vocab \\
        --out data/toy_open_vocab --num-train 2000 --num-val 100
"""
import argparse
import time

from mmpanoptic.datasets.toy_open_vocab import make_toy_open_vocab
from mmpanoptic.datasets.toy_panoptic import make_toy_panoptic


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', default='data/toy', help='output folder')
    p.add_argument('--num-train', type=int, default=200)
    p.add_argument('--num-val', type=int, default=50)
    p.add_argument('--height', type=int, default=128)
    p.add_argument('--width', type=int, default=128)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--open-vocab', action='store_true',
                   help='write the open-vocabulary variant (base / novel classes)')
    return p.parse_args()


def main():
    args = parse_args()
    t0 = time.time()
    make = make_toy_open_vocab if args.open_vocab else make_toy_panoptic
    written = make(args.out, args.num_train, args.num_val, args.height, args.width, args.seed)
    for split, ann in written.items():
        print(f'{split}: {ann}')
    print(f'done in {time.time() - t0:.1f} s')


if __name__ == '__main__':
    main()
