"""Time the default test tier as CI runs it: a fresh clone of HEAD, then
``CI=true bash .ci/run`` (setup, then the tier), and write the figures to
docs/results/test_tier.json (README's timing rows come from there).

    python benchmarks/test_tier_time.py [--clone-dir /tmp/tier_clone] [--keep]

The clone gets ``../shared`` linked beside it, as CI has it.  Figures: the
setup's own seconds, the tests' seconds and counts from pytest's closing
line, the slowest tests (pytest's ``--durations``), and the whole run's wall
time.  Run it on an idle machine: other work slows the tier.
"""
import argparse
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from mmpanoptic.testing.results import write_result  # noqa: E402

CLOSING = re.compile(r'=+ (?P<summary>.*?) in (?P<seconds>[0-9.]+)s')
DURATION = re.compile(r'^(?P<seconds>[0-9.]+)s (?:call|setup|teardown) +(?P<test>\S+)', re.M)


def parse(log: str) -> dict:
    """Counts, seconds and the slowest tests from a pytest run's output."""
    matches = list(CLOSING.finditer(log))
    if not matches:
        raise ValueError('no pytest closing line in the output')
    last = matches[-1]
    counts = {word: int(n) for n, word in re.findall(r'(\d+) (\w+)', last.group('summary'))}
    setup = re.findall(r'setup finished in (\d+) s', log)
    slowest = [dict(test=m.group('test'), seconds=float(m.group('seconds')))
               for m in DURATION.finditer(log)]
    return dict(tests_seconds=float(last.group('seconds')), counts=counts,
                setup_seconds=float(setup[-1]) if setup else None, slowest=slowest[:10])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--clone-dir', default='/tmp/mmpanoptic_tier_clone')
    p.add_argument('--keep', action='store_true', help='keep the clone afterwards')
    args = p.parse_args(argv)
    base = osp.abspath(args.clone_dir)
    if osp.exists(base):
        shutil.rmtree(base)
    os.makedirs(base)
    clone = osp.join(base, 'main')
    subprocess.run(['git', 'clone', '-q', ROOT, clone], check=True)
    shared = osp.join(osp.dirname(ROOT), 'shared')
    if osp.isdir(shared):
        os.symlink(shared, osp.join(base, 'shared'))
    env = dict(os.environ, CI='true')
    env.pop('MMPANOPTIC_VENV', None)
    start = time.time()
    proc = subprocess.run(['bash', '.ci/run'], cwd=clone, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    wall = time.time() - start
    log = proc.stdout
    with open(osp.join(base, 'ci.log'), 'w') as f:
        f.write(log)
    figures = parse(log)
    figures.update(wall_seconds=round(wall, 1), exit_code=proc.returncode)
    commit = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=clone, capture_output=True,
                            text=True).stdout.strip()
    path = write_result('test_tier', figures, f'python benchmarks/test_tier_time.py  '
                        f'# git clone; CI=true bash .ci/run (clone of {commit})',
                        notes=f'fresh clone of {commit}; log: {base}/ci.log')
    print(f'exit {proc.returncode}: {figures["counts"]} tests in {figures["tests_seconds"]} s, '
          f'setup {figures["setup_seconds"]} s, {wall:.0f} s in all -> {path}')
    for row in figures['slowest'][:5]:
        print(f'  {row["seconds"]:7.1f} s  {row["test"]}')
    if not args.keep:
        shutil.rmtree(clone, ignore_errors=True)
    return proc.returncode


if __name__ == '__main__':
    sys.exit(main())
