"""Config handling shared by tools/train.py and tools/test.py."""
import os
import os.path as osp
import sys
from typing import Optional

from mmengine.config import Config, DictAction


def load_tool_config(config: str, *, work_dir: Optional[str] = None,
                     cfg_options: Optional[dict] = None, launcher: str = 'none') -> Config:
    """Load a config the way the command-line tools do.

    Registers mmpanoptic's modules, lets ``custom_imports`` of ``projects/``
    resolve from the working directory (python puts ``tools/`` on ``sys.path``
    instead), applies ``--cfg-options`` and picks the work dir
    (``./work_dirs/<config name>`` unless given).
    """
    from .setup_env import register_all_modules
    register_all_modules(init_default_scope=False)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.work_dir = work_dir or cfg.get('work_dir') or osp.join(
        './work_dirs', osp.splitext(osp.basename(config))[0])
    if launcher != 'none':
        init_distributed_without_cuda(cfg)
    return cfg


def init_distributed_without_cuda(cfg: Config) -> bool:
    """Let ``--launcher pytorch`` run on machines without CUDA (gloo on CPU).

    mmengine 0.10's ``init_dist`` calls ``torch.cuda.set_device`` before it
    creates the process group, and its runner wraps the model in DDP with
    ``device_ids=[LOCAL_RANK]``; both fail on a CPU-only torch.  Without CUDA
    this joins the process group itself with the ``gloo`` backend (the runner
    then skips ``init_dist``) and wraps the model in mmengine's
    ``MMDistributedDataParallel`` with ``device_ids=None``, as DDP wants for
    CPU modules.  With CUDA it does nothing: mmengine's own path (NCCL) runs.

    Returns:
        Whether it set up the CPU path.
    """
    import datetime

    import torch
    import torch.distributed as dist
    if torch.cuda.is_available():
        return False
    if cfg.launcher != 'pytorch':
        raise SystemExit(f'--launcher {cfg.launcher} needs CUDA here; on CPU use '
                         '--launcher pytorch (tools/dist_train.sh, tools/dist_test.sh)')
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT')
               if k not in os.environ]
    if missing:
        raise SystemExit(f'--launcher pytorch needs {missing} in the environment: start '
                         'the tool with torchrun (tools/dist_train.sh CONFIG NPROC)')
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    dist_cfg['backend'] = 'gloo'
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    else:
        cfg.model_wrapper_cfg.setdefault('device_ids', None)
    if not dist.is_initialized():
        dist.init_process_group(
            'gloo', timeout=datetime.timedelta(seconds=dist_cfg.get('timeout', 300)))
    return True


def parse_tool_args(parser):
    """Add the options every tool shares (``--cfg-options``, ``--launcher``,
    ``--local-rank``) and parse the command line."""
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. train_cfg.max_iters=100')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def finish_distributed() -> None:
    """Leave the process group cleanly at the end of a tool: every rank waits
    for the others, then the group is destroyed.  Without it a rank that
    exits first can tear gloo's threads down while the other still talks to
    them (seen: ``terminate called without an active exception``, SIGABRT,
    in a 2-process CPU run)."""
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
