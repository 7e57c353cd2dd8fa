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
    return cfg


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
