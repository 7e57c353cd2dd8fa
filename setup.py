"""Installs mmpanoptic.  See README.md for the supported way (tools/setup_env.sh),
which also builds mmcv 2.1.0 with its compiled ops."""
import os.path as osp

from setuptools import find_packages, setup


def read_requirements(name):
    path = osp.join(osp.dirname(__file__), 'requirements', name)
    reqs = []
    with open(path) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line:
                reqs.append(line)
    return reqs


def get_version():
    scope = {}
    with open(osp.join('mmpanoptic', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='mmpanoptic',
    version=get_version(),
    description='Panoptic segmentation toolbox on OpenMMLab',
    long_description=open('README.md').read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'projects',
                                    'benchmarks', 'docs')),
    include_package_data=True,
    package_data={'mmpanoptic': ['vocabularies/*.json']},
    python_requires='>=3.9',
    install_requires=read_requirements('runtime.txt'),
    extras_require={
        'tests': read_requirements('tests.txt'),
        'optional': read_requirements('optional.txt'),
        'build': read_requirements('build.txt'),
    },
    license='Apache License 2.0',
    zip_safe=False,
)
