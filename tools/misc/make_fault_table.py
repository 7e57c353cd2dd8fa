"""Write docs/faults.md (every fault and bad-input case with its message)
from tests/fault_cases.py, the list the tests check their messages against.

    python tools/misc/make_fault_table.py           # rewrite docs/faults.md
    python tools/misc/make_fault_table.py --check   # change nothing; exit 1 if stale
"""
import argparse
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)
PAGE = osp.join(ROOT, 'docs', 'faults.md')

HEADER = """# Faults and bad input: what you see

Every case below is provoked by the test named in its row (kill -9 during
checkpoint writes, NaN in a batch, a stalled rank, damaged files...), and the
test checks the message shown here (`{...}` stands for the file, image,
number of the case).  "Before" is what the same probe gave before this
round's fixes.  This page is written by `tools/misc/make_fault_table.py`
from `tests/fault_cases.py`; do not edit it by hand.

What protects a run:

- **Checkpoints are atomic** (mmpanoptic's `CheckpointHook`: a temporary file
  in the same folder, fsync, rename; the retired checkpoint deleted after;
  `last_checkpoint` replaced the same way).  `--resume` without a path takes
  the newest *intact* checkpoint.
- **A resume continues exactly**: the checkpoint holds the torch / CUDA /
  numpy / Python random states, restored before the first new batch.
- **A NaN / inf loss stops the run** before the optimizer step
  (`default_hooks.nonfinite`, `NonFiniteCheckHook`; `action='skip'` drops
  such steps instead, counted; `check_grads=True` checks the gradients too).
- **No hang**: the process group times out after
  `env_cfg.dist_cfg.timeout` seconds (300 by default in
  `configs/_base_/default_runtime.py`; set it with
  `--cfg-options env_cfg.dist_cfg.timeout=600`).
- **Data is checked before iteration 1**: `tools/train.py` decodes every
  PNG and image of the training and validation sets (in parallel, with a
  progress bar; `--skip-validation` turns it off).

"""


def render() -> str:
    from tests.fault_cases import FAULTS
    lines = [HEADER.rstrip('\n'), '']
    for area in dict.fromkeys(f.area for f in FAULTS.values()):
        lines += [f'## {area.capitalize()}', '', '| probe | before | now | test |',
                  '|---|---|---|---|']
        for f in FAULTS.values():
            if f.area == area:
                now = f.message if f.message.startswith('(') else f'`{f.message}`'
                test = f.test.split('/')[-1]
                lines.append(f'| {f.probe} | {f.before} | {now.replace("|", "/")} | '
                             f'`{test}` |')
        lines.append('')
    return '\n'.join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--check', action='store_true')
    args = p.parse_args(argv)
    text = render()
    current = open(PAGE).read() if osp.isfile(PAGE) else ''
    if args.check:
        if current != text:
            print(f'{PAGE} is stale: run python tools/misc/make_fault_table.py')
            return 1
        return 0
    with open(PAGE, 'w') as f:
        f.write(text)
    print(f'wrote {PAGE}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
