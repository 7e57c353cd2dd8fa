"""Train a model.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--skip-validation]
        [--cfg-options k=v ...]

Before the first iteration the annotation files are checked (the JSON, the
class counts, then every PNG against its segments and every image decoded in
full, in parallel with a progress bar; ``--skip-validation`` turns it off).
``--resume`` without a path continues from the newest *intact* checkpoint of
the work dir (a damaged one is named and skipped); a damaged ``--resume
CKPT`` or ``load_from`` stops with one line naming the file.  A NaN / inf
loss stops the run before the optimizer step (exit 1; see
``NonFiniteCheckHook``).
"""
import argparse

from mmengine.runner import Runner

from mmpanoptic.engine.checkpoints import (
    checkpoint_problem,
    latest_intact_checkpoint,
    require_intact,
)
from mmpanoptic.engine.hooks import NonFiniteLossError
from mmpanoptic.fileio import PanopticError
from mmpanoptic.utils.tool_config import finish_distributed, load_tool_config, parse_tool_args


def parse_args():
    p = argparse.ArgumentParser(description='Train a panoptic segmentation model')
    p.add_argument('config', help='config file')
    p.add_argument('--work-dir', help='where logs and checkpoints go '
                   '(default: ./work_dirs/<config name>)')
    p.add_argument('--resume', nargs='?', type=str, const='auto',
                   help='resume from the given checkpoint, or from the latest one '
                   'in the work dir when no path is given')
    p.add_argument('--amp', action='store_true', help='mixed precision (GPU)')
    p.add_argument('--skip-validation', action='store_true',
                   help='do not check the annotations, PNGs and images before training')
    return parse_tool_args(p)


def main():
    args = parse_args()
    cfg = load_tool_config(args.config, work_dir=args.work_dir,
                           cfg_options=args.cfg_options, launcher=args.launcher)
    if args.amp:
        import torch
        if not torch.cuda.is_available():
            raise SystemExit('--amp needs a CUDA GPU (mmengine\'s AmpOptimWrapper); '
                             'this machine has none')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    try:
        if args.resume == 'auto':
            cfg.resume = True
            cfg.load_from = pick_resume_checkpoint(cfg.work_dir)
        elif args.resume is not None:
            require_intact(args.resume, '--resume')
            cfg.resume = True
            cfg.load_from = args.resume
        elif cfg.get('load_from'):
            require_intact(cfg.load_from, 'load_from')
    except PanopticError as e:
        raise SystemExit(f'error: {e}')
    if not args.skip_validation:
        validate_annotations(cfg)
    runner = Runner.from_cfg(cfg)
    try:
        runner.train()
    except NonFiniteLossError as e:
        raise SystemExit(f'error: {e}')
    finish_distributed()


def pick_resume_checkpoint(work_dir):
    """The newest intact checkpoint of ``work_dir`` (None: start afresh, as
    mmengine does), saying so when ``last_checkpoint`` names a damaged one."""
    import os.path as osp
    if not osp.isdir(work_dir):
        return None
    found = latest_intact_checkpoint(work_dir)
    for path in found['skipped']:
        print(f'--resume: skipping {checkpoint_problem(path)}')
    if found['use'] is None:
        if found['skipped']:
            raise SystemExit(f'--resume: no intact checkpoint in {work_dir} (all '
                             f'{len(found["skipped"])} damaged)')
        return None
    if found['named'] and found['named'] != found['use']:
        print(f'--resume: last_checkpoint names {found["named"]}, which is damaged or '
              f'missing; resuming from {found["use"]}')
    return found['use']


def validate_annotations(cfg, max_lines=50):
    """tools/misc/validate_panoptic_dataset.py's checks on the train and val
    annotation files (JSON, PNGs, images decoded in full; the class counts;
    an empty training set), so a bad file stops the run before the first
    iteration instead of when it is first sampled."""
    import os

    from mmengine.dist import is_main_process

    from mmpanoptic.datasets.validation import check_config_annotations, summary_table
    if not is_main_process():
        return
    workers = min(8, os.cpu_count() or 1)
    checked, problems = check_config_annotations(cfg, files=True, workers=workers)
    if not problems:
        return
    for p in problems[:max_lines]:
        print(p)
    if len(problems) > max_lines:
        print(f'... and {len(problems) - max_lines} more')
    print('\n' + summary_table(problems))
    raise SystemExit(
        f'{len(problems)} problem(s) in {", ".join(checked)}: fix them '
        '(tools/misc/validate_panoptic_dataset.py --json ANN --png-dir DIR --images-dir DIR '
        'lists them all) or pass --skip-validation')


if __name__ == '__main__':
    main()
