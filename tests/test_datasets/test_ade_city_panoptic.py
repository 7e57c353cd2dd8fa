"""Cityscapes and ADE20K panoptic datasets: layouts as the converters write them."""
import json

import cv2
import numpy as np

from mmpanoptic.datasets import ADE20KPanopticDataset, CityscapesPanopticDataset
from mmpanoptic.structures import id2rgb


def test_cityscapes_images_live_in_city_folders(tmp_path):
    # cityscapesscripts' createPanopticImgs: flat PNG folder, images in <city>/.
    name = 'frankfurt_000000_000294'
    (tmp_path / 'leftImg8bit/val/frankfurt').mkdir(parents=True)
    (tmp_path / 'gtFine/cityscapes_panoptic_val').mkdir(parents=True)
    cv2.imwrite(str(tmp_path / f'leftImg8bit/val/frankfurt/{name}_leftImg8bit.png'),
                np.zeros((4, 8, 3), np.uint8))
    ids = np.full((4, 8), 7000)
    ids[:, 4:] = 26001  # a car (label id 26) next to road (7)
    cv2.imwrite(str(tmp_path / f'gtFine/cityscapes_panoptic_val/{name}_gtFine_panoptic.png'),
                id2rgb(ids)[..., ::-1])
    ann = dict(
        images=[dict(id=name, file_name=f'{name}_leftImg8bit.png', height=4, width=8)],
        annotations=[dict(image_id=name, file_name=f'{name}_gtFine_panoptic.png',
                          segments_info=[dict(id=7000, category_id=7, iscrowd=0, area=16,
                                              bbox=[0, 0, 4, 4]),
                                         dict(id=26001, category_id=26, iscrowd=0, area=16,
                                              bbox=[4, 0, 4, 4])])],
        categories=[dict(id=7, name='road', isthing=0), dict(id=26, name='car', isthing=1)])
    (tmp_path / 'gtFine/cityscapes_panoptic_val.json').write_text(json.dumps(ann))
    ds = CityscapesPanopticDataset(
        ann_file='gtFine/cityscapes_panoptic_val.json', data_root=str(tmp_path) + '/',
        data_prefix=dict(img='leftImg8bit/val/', seg='gtFine/cityscapes_panoptic_val/'),
        test_mode=True)
    info = ds.get_data_info(0)
    assert info['img_path'].endswith(f'leftImg8bit/val/frankfurt/{name}_leftImg8bit.png')
    assert ds.metainfo['thing_classes'] == ('car', ) and ds.metainfo['classes'] == ('car',
                                                                                    'road')


def test_ade20k_panoptic_is_coco_format(toy_data):
    # The converted ADE20K is plain COCO panoptic: the toy data stands in.
    prefix = dict(img='val2017/', seg='annotations/panoptic_val2017/')
    ds = ADE20KPanopticDataset(ann_file='annotations/panoptic_val2017.json',
                               data_root=toy_data + '/', data_prefix=prefix, test_mode=True)
    assert len(ds) == 4 and ds.metainfo['thing_classes']
