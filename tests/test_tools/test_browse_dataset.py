"""tools/analysis_tools/browse_dataset.py writes the pipeline's output as pictures."""
import os
import subprocess
import sys

import cv2
import pytest

from ..e2e_utils import ROOT


@pytest.mark.parametrize('phase', ['train', 'val'])
def test_browse_writes_pictures_with_the_ground_truth(toy_data, tmp_path, phase):
    out = tmp_path / 'pics'
    root = toy_data.rstrip('/') + '/'
    proc = subprocess.run(
        [sys.executable, 'tools/analysis_tools/browse_dataset.py',
         'configs/mask2former/mask2former_r18_toy.py', '--output-dir', str(out), '--phase',
         phase, '--max-images', '3', '--scale', '2', '--cfg-options',
         f'{phase}_dataloader.dataset.data_root={root}'],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    files = sorted(os.listdir(out))
    assert len(files) == 3
    picture = cv2.imread(str(out / files[0]))
    folder = os.path.join(toy_data, 'train2017' if phase == 'train' else 'val2017')
    stem = os.path.splitext(files[0].split('_', 1)[1])[0]
    name = next(f for f in os.listdir(folder) if os.path.splitext(f)[0] == stem)
    image = cv2.imread(os.path.join(folder, name))
    assert picture.shape[:2] == (2 * image.shape[0], 2 * image.shape[1])
    # The overlay changed the picture (segments are drawn on it).
    small = cv2.resize(picture, image.shape[1::-1], interpolation=cv2.INTER_AREA)
    assert abs(small.astype(int) - image.astype(int)).mean() > 5
