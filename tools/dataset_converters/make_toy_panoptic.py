"""Write the bundled procedural panoptic dataset in COCO panoptic format.

    python tools/dataset_converters/make_toy_panoptic.py --out data/toy \\
        --num-train 200 --num-val 50
"""
import argparse
import time

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
    return p.parse_args()


def main():
    args = parse_args()
    t0 = time.time()
    written = make_toy_panoptic(args.out, args.num_train, args.num_val,
                                args.height, args.width, args.seed)
    for split, ann in written.items():
        print(f'{split}: {ann}')
    print(f'done in {time.time() - t0:.1f} s')


if __name__ == '__main__':
    main()
