"""What CLIP's image towers share: an architecture table, whole-CLIP
checkpoint loading under a key prefix, and freezing."""
from typing import Dict, Optional, Sequence

from torch import nn

from ..checkpoints.clip_weights import load_clip_part


class FrozenCLIPTower(nn.Module):
    """Base of :class:`CLIPResNet` and :class:`CLIPConvNeXt`: ``ARCHS``
    maps model names to architectures, ``KIND`` names the tower in
    errors."""

    ARCHS: Dict[str, tuple] = {}
    KIND = 'CLIP tower'

    @classmethod
    def architecture(cls, model_name: str, arch: Optional[Sequence]) -> Sequence:
        """``arch`` when given, else the named model's."""
        if arch is not None:
            return arch
        if model_name not in cls.ARCHS:
            raise KeyError(f'unknown {cls.KIND} {model_name!r}; known: {sorted(cls.ARCHS)}')
        return cls.ARCHS[model_name]

    def finish(self, checkpoint: Optional[str], prefix: str, frozen: bool) -> None:
        """Load ``checkpoint`` (keys under ``prefix``) and freeze (weights
        and normalisation statistics) when ``frozen``; call at the end of
        ``__init__``."""
        if checkpoint is not None:
            self.load_clip_checkpoint(checkpoint, prefix)
        self.frozen = frozen
        if frozen:
            for p in self.parameters():
                p.requires_grad_(False)
            self.train(False)  # BN statistics fixed from the start

    def load_clip_checkpoint(self, path: str, prefix: str = 'visual.') -> None:
        """Load the image tower's weights from a whole-CLIP checkpoint."""
        load_clip_part(self, path, prefix, self.KIND)

    def train(self, mode: bool = True) -> 'FrozenCLIPTower':
        return super().train(False if getattr(self, 'frozen', False) else mode)
