from .backbones import *  # noqa: F401,F403
from .classifiers import *  # noqa: F401,F403
from .criteria import *  # noqa: F401,F403
from .fusion import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .segmentors import *  # noqa: F401,F403
from .trackers import *  # noqa: F401,F403
from .tta import *  # noqa: F401,F403
