"""Registers every mmpanoptic module and sets the default scope."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every module that registers into mmpanoptic's registries.

    Args:
        init_default_scope: Also make ``'mmpanoptic'`` the current default
            scope, so unprefixed ``type=`` names resolve in mmpanoptic first.
    """
    import mmpanoptic.datasets  # noqa: F401
    import mmpanoptic.engine  # noqa: F401
    import mmpanoptic.evaluation.metrics  # noqa: F401
    import mmpanoptic.models  # noqa: F401
    import mmpanoptic.visualization  # noqa: F401

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or current.scope_name != 'mmpanoptic':
        if current is not None:
            warnings.warn(f'Default scope was "{current.scope_name}"; '
                          'switching to "mmpanoptic".')
        name = f'mmpanoptic-{datetime.datetime.now()}'
        DefaultScope.get_instance(name, scope_name='mmpanoptic')
