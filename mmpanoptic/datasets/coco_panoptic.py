"""COCO-format panoptic dataset.

Why not mmdet's ``CocoPanopticDataset``: it hard-codes the 133 COCO classes in
``METAINFO`` (so every other dataset needs the class list repeated in the
config), and its ``LoadPanopticAnnotations`` needs panopticapi, which is not
on PyPI.  Ours reads the class list from the annotation file's
``categories`` (things first, then stuff, each in file order), so the counts
are derived in one place, and it checks the annotation file up front,
raising errors that name the file, the image and the segment.
"""
import json
import os.path as osp
from typing import List, Optional, Sequence

from mmengine.dataset import BaseDataset

from mmpanoptic.fileio import PanopticAnnotationError, parse_categories
from mmpanoptic.registry import DATASETS

DATA_DOC = 'docs/dataset_prepare.md'


@DATASETS.register_module()
class CocoPanopticDataset(BaseDataset):
    """Panoptic dataset in COCO panoptic format.

    Args:
        ann_file: panoptic JSON (``images``, ``annotations``, ``categories``).
        data_root: prefix joined to relative paths.
        data_prefix: ``dict(img=IMAGE_DIR, seg=PANOPTIC_PNG_DIR)``.
        filter_cfg: ``dict(filter_empty_gt=True, min_size=0)`` drops training
            images without any thing segment (crowd ones count, as in
            mmdet) or smaller than ``min_size``.
        check_files: check at start-up that every image and PNG exists.
        pipeline, test_mode, lazy_init, serialize_data, indices,
        max_refetch, metainfo: as in :class:`mmengine.dataset.BaseDataset`.

    >>> # ds = CocoPanopticDataset(ann_file='annotations/panoptic_val2017.json',
    >>> #     data_root='data/toy/', data_prefix=dict(img='val2017/',
    >>> #     seg='annotations/panoptic_val2017/'))
    >>> # ds.metainfo['thing_classes']  ->  ('ellipse', 'box', ...)
    """

    def __init__(self,
                 ann_file: str,
                 *,
                 data_root: str = '',
                 data_prefix: Optional[dict] = None,
                 filter_cfg: Optional[dict] = None,
                 metainfo: Optional[dict] = None,
                 pipeline: Sequence = (),
                 test_mode: bool = False,
                 check_files: bool = True,
                 lazy_init: bool = False,
                 serialize_data: bool = True,
                 indices=None,
                 max_refetch: int = 1000) -> None:
        self.check_files = check_files
        super().__init__(
            ann_file=ann_file,
            metainfo=metainfo,
            data_root=data_root,
            data_prefix=data_prefix or dict(img='', seg=''),
            filter_cfg=filter_cfg,
            indices=indices,
            serialize_data=serialize_data,
            pipeline=list(pipeline),
            test_mode=test_mode,
            lazy_init=lazy_init,
            max_refetch=max_refetch)

    def load_data_list(self) -> List[dict]:
        ann_file = self.ann_file
        if not osp.isfile(ann_file):
            raise FileNotFoundError(
                f'Panoptic annotation file not found: {ann_file}. '
                f'See {DATA_DOC} for how to prepare COCO panoptic data, or run '
                f'`python tools/dataset_converters/make_toy_panoptic.py` for '
                f'the bundled toy data.')
        with open(ann_file) as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as e:
                raise PanopticAnnotationError(f'{ann_file}: not valid JSON ({e})') from e
        if not isinstance(data, dict) or not all(
                k in data for k in ('images', 'annotations', 'categories')):
            raise PanopticAnnotationError(
                f'{ann_file}: not a COCO panoptic file (needs "images", '
                f'"annotations" and "categories")')
        meta = parse_categories(data['categories'], ann_file)
        self._metainfo.update(meta)
        cat2label = meta['cat2label']

        anns = {}
        for a in data['annotations']:
            if 'image_id' not in a or 'segments_info' not in a or 'file_name' not in a:
                raise PanopticAnnotationError(
                    f'{ann_file}: annotation {str(a)[:80]} lacks image_id, '
                    f'file_name or segments_info')
            anns[a['image_id']] = a

        img_prefix = self.data_prefix.get('img', '')
        seg_prefix = self.data_prefix.get('seg', '')
        data_list = []
        for img in data['images']:
            image_id = img['id']
            ann = anns.get(image_id)
            where = f'{ann_file}: image {image_id} ({img.get("file_name")})'
            if ann is None:
                raise PanopticAnnotationError(f'{where} has no panoptic annotation')
            segments, seen = [], set()
            for seg in ann['segments_info']:
                sid = seg.get('id')
                if sid in seen:
                    raise PanopticAnnotationError(f'{where}: segment id {sid} appears twice')
                seen.add(sid)
                cat = seg.get('category_id')
                if cat not in cat2label:
                    raise PanopticAnnotationError(
                        f'{where}: segment {sid} has unknown category_id {cat} '
                        f'(known: {sorted(cat2label)})')
                label = cat2label[cat]
                segments.append(dict(
                    id=int(sid), category_id=int(cat), label=label,
                    isthing=meta['isthing'][label],
                    iscrowd=int(seg.get('iscrowd', 0)),
                    area=int(seg.get('area', 0)), bbox=list(seg.get('bbox', [0, 0, 0, 0]))))
            info = dict(
                img_id=image_id,
                img_path=self.image_path(img_prefix, img['file_name']),
                seg_map_path=osp.join(seg_prefix, ann['file_name']),
                height=int(img['height']),
                width=int(img['width']),
                segments_info=segments)
            for key in ('video_id', 'frame_id'):  # video datasets in this format
                if key in img:
                    info[key] = img[key]
            data_list.append(info)
        if self.check_files:
            self._check_files(data_list)
        return data_list

    def image_path(self, img_prefix: str, file_name: str) -> str:
        """Path of an image from the JSON's ``file_name`` (datasets that keep
        images in sub-folders override this)."""
        return osp.join(img_prefix, file_name)

    def _check_files(self, data_list: List[dict]) -> None:
        for info in data_list:
            for key, what in (('img_path', 'image'), ('seg_map_path', 'panoptic PNG')):
                if not osp.isfile(info[key]):
                    raise FileNotFoundError(
                        f'{what} of image {info["img_id"]} not found: {info[key]} '
                        f'(annotation file {self.ann_file}; see {DATA_DOC})')

    def filter_data(self) -> List[dict]:
        if self.test_mode or not self.filter_cfg:
            return self.data_list
        empty = self.filter_cfg.get('filter_empty_gt', False)
        min_size = self.filter_cfg.get('min_size', 0)
        kept = []
        for info in self.data_list:
            if min(info['width'], info['height']) < min_size:
                continue
            # mmdet's rule: any thing segment counts, crowd ones too.
            if empty and not any(s['isthing'] for s in info['segments_info']):
                continue
            kept.append(info)
        return kept
