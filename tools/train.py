"""Train a model.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--cfg-options k=v ...]
"""
import argparse

from mmengine.runner import Runner

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
                   help='do not check the annotation JSONs before training')
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
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if not args.skip_validation:
        validate_annotations(cfg)
    runner = Runner.from_cfg(cfg)
    runner.train()
    finish_distributed()


def validate_annotations(cfg, max_lines=50):
    """The cheap, JSON-level part of tools/misc/validate_panoptic_dataset.py on
    the train and val annotation files, so a bad annotation stops the run
    before the first iteration instead of half-way through it."""
    from mmpanoptic.datasets.validation import check_config_annotations, summary_table
    checked, problems = check_config_annotations(cfg)
    if not problems:
        return
    for p in problems[:max_lines]:
        print(p)
    if len(problems) > max_lines:
        print(f'... and {len(problems) - max_lines} more')
    print('\n' + summary_table(problems))
    raise SystemExit(
        f'{len(problems)} problem(s) in {", ".join(checked)}: fix them (the full check, PNGs '
        'included: tools/misc/validate_panoptic_dataset.py --json ANN --png-dir DIR) or '
        'pass --skip-validation')


if __name__ == '__main__':
    main()
