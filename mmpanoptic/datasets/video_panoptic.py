"""Video panoptic data in COCO panoptic format (one entry per annotated frame)."""
from typing import List

from mmpanoptic.fileio import PanopticAnnotationError
from mmpanoptic.registry import DATASETS

from .coco_panoptic import CocoPanopticDataset


@DATASETS.register_module()
class VideoPanopticDataset(CocoPanopticDataset):
    """Frames of videos as COCO panoptic images with ``video_id`` and
    ``frame_id`` in every ``images`` entry; a segment id is a track id (the
    same id in two frames of a video is the same object).

    Frames are ordered by (video, frame), so a non-shuffled test loader feeds
    a tracker the frames of one video in order.  Training uses the frames as
    independent images.
    """

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        for info in data_list:
            if 'video_id' not in info or 'frame_id' not in info:
                raise PanopticAnnotationError(
                    f'{self.ann_file}: image {info["img_id"]} has no video_id / frame_id '
                    f'(a video dataset needs both in every "images" entry)')
        return sorted(data_list, key=lambda i: (i['video_id'], i['frame_id']))
