"""mmpanoptic's registries.

Each registry is a child of mmdet's (which is a child of mmengine's), so:

* ``type='PanopticFPN'`` finds our classes (scope ``mmpanoptic``);
* an unprefixed name we do not define (``'CrossEntropyLoss'``, ``'ResNet'``)
  falls back to mmdet and then mmengine, which keeps mmdet's own string
  defaults working under ``default_scope='mmpanoptic'``;
* scoped names such as ``'mmdet.ResNet'`` or ``'mmseg.ASPPHead'`` reach the
  sibling libraries explicitly.

``locations`` lists the packages that register into each registry, so a config
builds without importing mmpanoptic's modules by hand.
"""
from mmdet.registry import DATA_SAMPLERS as MMDET_DATA_SAMPLERS
from mmdet.registry import DATASETS as MMDET_DATASETS
from mmdet.registry import EVALUATOR as MMDET_EVALUATOR
from mmdet.registry import HOOKS as MMDET_HOOKS
from mmdet.registry import LOOPS as MMDET_LOOPS
from mmdet.registry import METRICS as MMDET_METRICS
from mmdet.registry import MODEL_WRAPPERS as MMDET_MODEL_WRAPPERS
from mmdet.registry import MODELS as MMDET_MODELS
from mmdet.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMDET_OPTIM_WRAPPER_CONSTRUCTORS
from mmdet.registry import OPTIM_WRAPPERS as MMDET_OPTIM_WRAPPERS
from mmdet.registry import PARAM_SCHEDULERS as MMDET_PARAM_SCHEDULERS
from mmdet.registry import RUNNERS as MMDET_RUNNERS
from mmdet.registry import TASK_UTILS as MMDET_TASK_UTILS
from mmdet.registry import TRANSFORMS as MMDET_TRANSFORMS
from mmdet.registry import VISBACKENDS as MMDET_VISBACKENDS
from mmdet.registry import VISUALIZERS as MMDET_VISUALIZERS
from mmdet.registry import WEIGHT_INITIALIZERS as MMDET_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

from .compat import apply_compat_patches

# Everything that registers a module imports this file: the one place where the
# version checks and compatibility patches run.
apply_compat_patches()

RUNNERS = Registry('runner', parent=MMDET_RUNNERS)
LOOPS = Registry('loop', parent=MMDET_LOOPS)
HOOKS = Registry(
    'hook', parent=MMDET_HOOKS, locations=['mmpanoptic.engine'])
DATASETS = Registry(
    'dataset', parent=MMDET_DATASETS, locations=['mmpanoptic.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler', parent=MMDET_DATA_SAMPLERS, locations=['mmpanoptic.datasets'])
TRANSFORMS = Registry(
    'transform',
    parent=MMDET_TRANSFORMS,
    locations=['mmpanoptic.datasets.transforms'])
MODELS = Registry(
    'model', parent=MMDET_MODELS, locations=['mmpanoptic.models'])
MODEL_WRAPPERS = Registry('model_wrapper', parent=MMDET_MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = Registry(
    'weight initializer', parent=MMDET_WEIGHT_INITIALIZERS)
OPTIM_WRAPPERS = Registry('optim_wrapper', parent=MMDET_OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor', parent=MMDET_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['mmpanoptic.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler', parent=MMDET_PARAM_SCHEDULERS, locations=['mmpanoptic.engine'])
METRICS = Registry(
    'metric', parent=MMDET_METRICS, locations=['mmpanoptic.evaluation.metrics'])
EVALUATOR = Registry(
    'evaluator', parent=MMDET_EVALUATOR, locations=['mmpanoptic.evaluation.metrics'])
TASK_UTILS = Registry(
    'task util', parent=MMDET_TASK_UTILS, locations=['mmpanoptic.models'])
VISUALIZERS = Registry(
    'visualizer',
    parent=MMDET_VISUALIZERS,
    locations=['mmpanoptic.visualization'])
VISBACKENDS = Registry('vis_backend', parent=MMDET_VISBACKENDS)
