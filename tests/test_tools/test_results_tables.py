"""Every result number of README / docs / metafiles comes from docs/results:
``tools/misc/make_results_tables.py --check`` passes on the repository, and
a number changed by hand (or a results file changed) makes it fail, naming
the file, the line and the number."""
import copy
import json
import os.path as osp
import runpy
import shutil

import pytest

from mmpanoptic.testing.results import RESULTS_DIR, read_results, write_result

from ..e2e_utils import ROOT

TOOL = osp.join(ROOT, 'tools', 'misc', 'make_results_tables.py')


@pytest.fixture(scope='module')
def tool():
    return runpy.run_path(TOOL)


def test_repository_numbers_agree_with_the_results_files(tool, capsys):
    code = tool['main'](['--check'])
    out = capsys.readouterr().out
    assert code == 0, out
    assert 'all numbers agree' in out
    blocks = int(out.strip().split('\n')[-1].split()[0])
    assert blocks >= 7 and len(read_results(RESULTS_DIR)) >= 1


def test_a_number_changed_by_hand_is_named(tool, tmp_path, capsys):
    readme = tmp_path / 'README.md'
    shutil.copy(osp.join(ROOT, 'README.md'), readme)
    text = readme.read_text()
    bodies = [b.group('body') for b in tool['BLOCK'].finditer(text)]
    line = next(ln for body in bodies for ln in body.split('\n') if ln.startswith('| All |'))
    number = line.split('|')[2].strip()
    changed = f'{float(number) + 1:.2f}'
    readme.write_text(text.replace(line, line.replace(number, changed, 1)))
    code = tool['main'](['--check', str(readme)])
    out = capsys.readouterr().out
    assert code == 1
    lineno = text[:text.index(line)].count('\n') + 1
    assert f'README.md:{lineno}: {changed} differs from the results file: {number}' in out
    # Writing puts the results file's number back.
    assert tool['main']([str(readme)]) == 0
    assert readme.read_text() == text


def test_templates_render_figures_differences_and_ratios(tool, tmp_path, capsys):
    results = tmp_path / 'results'
    write_result('bench', dict(ours=dict(s=0.5), theirs=dict(s=2.0), n=[3, 4]), 'python x.py',
                 directory=str(results))
    doc = tmp_path / 'doc.md'
    doc.write_text('<!-- results\n| [[bench:ours:s|.3f]] | [[bench:theirs:s / bench:ours:s'
                   '|.1f]]x | [[bench:theirs:s - bench:ours:s|+.2f]] | [[bench:n:1|d]] | '
                   '[[bench:@command]] |\n-->\nstale\n<!-- /results -->\n')
    assert tool['main'](['--results', str(results), str(doc)]) == 0
    assert '| 0.500 | 4.0x | +1.50 | 4 | python x.py |\n<!-- /results -->' in doc.read_text()
    assert tool['main'](['--check', '--results', str(results), str(doc)]) == 0
    capsys.readouterr()
    # A figure the results file does not hold is an error, not a blank.
    doc.write_text('<!-- results\n[[bench:ours:t]]\n-->\n\n<!-- /results -->\n')
    assert tool['main'](['--check', '--results', str(results), str(doc)]) == 1
    assert 'has no ours:t' in capsys.readouterr().out
    doc.write_text('<!-- results\n[[nope:x]]\n-->\n\n<!-- /results -->\n')
    assert tool['main'](['--check', '--results', str(results), str(doc)]) == 1
    assert 'no results file docs/results/nope.json' in capsys.readouterr().out
    record = json.load(open(results / 'bench.json'))
    assert record['command'] == 'python x.py' and record['machine']['cores'] >= 1
    assert record['commit']


def test_metafile_numbers_come_from_the_results_files(tool):
    records = read_results(RESULTS_DIR)
    assert tool['metafile_problems'](records, write=False) == []
    changed = copy.deepcopy(records)
    changed['toy_panoptic_fpn']['figures']['test']['panoptic/PQ'] += 1.0
    problems = tool['metafile_problems'](changed, write=False)
    assert len(problems) == 1 and 'metafile.yml' in problems[0], problems
