"""Write the result tables of README, docs and metafiles from docs/results/*.json.

    python tools/misc/make_results_tables.py           # rewrite the tables
    python tools/misc/make_results_tables.py --check   # change nothing; exit 1 naming
                                                       # every number that differs

A results block in a Markdown file is a template in an HTML comment followed
by its rendering::

    <!-- results
    | model | PQ |
    |---|---|
    | Panoptic FPN r18 | [[toy_panoptic_fpn:test:panoptic/PQ|.2f]] |
    -->
    | model | PQ |
    |---|---|
    | Panoptic FPN r18 | 85.68 |
    <!-- /results -->

``[[NAME:KEY:KEY...|FORMAT]]`` is a figure of ``docs/results/NAME.json``
(``figures[KEY][KEY]...``) in Python's format spec (default ``.2f``);
``[[A - B|+.2f]]`` is the difference of two figures and ``[[A / B|.2f]]``
their ratio (B may be a number: ``[[run:train_seconds / 60|.1f]]`` minutes).
``[[NAME:@command]]``, ``@commit`` and ``@machine.cpu`` print the
record's own fields.  The metafiles' toy PQ comes from the same records
(``tools/misc/make_metafiles.py``).  The slow test tier and the benchmarks
write the records (``mmpanoptic/testing/results.py``).
"""
import argparse
import difflib
import glob
import os.path as osp
import re
import sys
from typing import Dict, List, Tuple

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

from mmpanoptic.testing.results import RESULTS_DIR, read_results  # noqa: E402

BLOCK = re.compile(r'<!-- results\n(?P<template>.*?)\n-->\n(?P<body>.*?)<!-- /results -->',
                   re.S)
FIELD = re.compile(r'\[\[(?P<expr>[^\]|]+?)(?:\|(?P<fmt>[^\]]*))?\]\]')


def markdown_files(root: str = ROOT) -> List[str]:
    files = [osp.join(root, 'README.md')]
    files += sorted(glob.glob(osp.join(root, 'docs', '*.md')))
    files += sorted(glob.glob(osp.join(root, 'configs', '*', 'README.md')))
    return [f for f in files if osp.isfile(f)]


def figure(ref: str, records: Dict[str, dict]):
    """The value ``NAME:KEY:KEY...`` names (or a number written as such); a
    KeyError names what is missing."""
    try:
        return float(ref)
    except ValueError:
        pass
    name, *path = [p.strip() for p in ref.split(':')]
    if name not in records:
        raise KeyError(f'no results file docs/results/{name}.json')
    value = records[name]
    if path and path[0].startswith('@'):
        path = [path[0][1:], *path[1:]]
        keys = [k for p in path for k in p.split('.')]
    else:
        value = value['figures']
        keys = path
    for key in keys:
        if isinstance(value, list):
            value = value[int(key)]
        elif isinstance(value, dict) and key in value:
            value = value[key]
        else:
            raise KeyError(f'docs/results/{name}.json has no {":".join(path)}')
    return value


def evaluate(expr: str, records: Dict[str, dict]):
    for op in (' - ', ' / '):
        if op in expr:
            a, b = (figure(part, records) for part in expr.split(op, 1))
            return a - b if op == ' - ' else a / b
    return figure(expr, records)


def render_field(match: re.Match, records: Dict[str, dict]) -> str:
    value = evaluate(match.group('expr'), records)
    fmt = match.group('fmt')
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(value, fmt if fmt is not None else '.2f')
    return format(value, fmt or '')


def render(template: str, records: Dict[str, dict]) -> str:
    return FIELD.sub(lambda m: render_field(m, records), template)


def line_differences(template_line: str, actual: str, records) -> List[str]:
    """Each figure of one template line whose printed value differs."""
    parts, fields, pos = [], [], 0
    for m in FIELD.finditer(template_line):
        parts.append(re.escape(template_line[pos:m.start()]))
        parts.append('(.*?)')
        fields.append(m)
        pos = m.end()
    parts.append(re.escape(template_line[pos:]))
    found = re.fullmatch(''.join(parts), actual)
    if found is None:
        return [f'line reads {actual!r}, expected {render(template_line, records)!r}']
    out = []
    for m, printed in zip(fields, found.groups()):
        expected = render_field(m, records)
        if printed != expected:
            out.append(f'{printed} differs from the results file: {expected} '
                       f'([[{m.group("expr")}]])')
    return out or [f'line reads {actual!r}, expected {render(template_line, records)!r}']


def process(path: str, records: Dict[str, dict],
            check: bool = True) -> Tuple[str, List[str]]:
    """The file's text with its blocks re-rendered, and every template that
    cannot be rendered (and with ``check``, every printed number that differs)."""
    text = open(path).read()
    problems: List[str] = []
    rel = osp.relpath(path, ROOT)

    def replace(block: re.Match) -> str:
        template = block.group('template')
        start_line = text.count('\n', 0, block.start('body')) + 1
        try:
            rendered = render(template, records) + '\n'
        except (KeyError, IndexError, ValueError, TypeError) as e:
            problems.append(f'{rel}:{start_line}: {e}')
            return block.group(0)
        body = block.group('body')
        if check and body != rendered:
            t_lines, b_lines = template.split('\n'), body.rstrip('\n').split('\n')
            if len(t_lines) != len(b_lines):
                problems.append(f'{rel}:{start_line}: the block has {len(b_lines)} lines, '
                                f'its template {len(t_lines)}')
            else:
                for i, (t, b) in enumerate(zip(t_lines, b_lines)):
                    if render(t, records) != b:
                        for d in line_differences(t, b, records):
                            problems.append(f'{rel}:{start_line + i}: {d}')
        return block.group(0)[:block.start('body') - block.start()] + rendered + \
            '<!-- /results -->'

    new_text = BLOCK.sub(replace, text)
    return new_text, problems


def metafile_problems(records: Dict[str, dict], write: bool) -> List[str]:
    """Metafiles as make_metafiles.py writes them from the same records."""
    sys.path.insert(0, osp.join(ROOT, 'tools', 'misc'))
    import make_metafiles
    problems = []
    for path, text in make_metafiles.render_all(records).items():
        rel = osp.relpath(path, ROOT)
        old = open(path).read() if osp.isfile(path) else ''
        if old == text:
            continue
        if write:
            with open(path, 'w') as f:
                f.write(text)
            continue
        old_lines, new_lines = old.split('\n'), text.split('\n')
        diffs = []
        matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == 'equal':
                continue
            was = ' / '.join(x.strip() for x in old_lines[i1:i2]) or '(nothing)'
            now = ' / '.join(x.strip() for x in new_lines[j1:j2]) or '(nothing)'
            diffs.append(f'{rel}:{i1 + 1}: {was!r} differs from the results file: {now!r}')
        problems += diffs or [f'{rel}: differs from what make_metafiles.py writes']
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--check', action='store_true',
                        help='change nothing; exit 1 naming each number that differs')
    parser.add_argument('--results', default=RESULTS_DIR, help='the results folder')
    parser.add_argument('files', nargs='*', help='Markdown files (default: README, docs, '
                        'configs/*/README.md) ')
    args = parser.parse_args(argv)
    records = read_results(args.results)
    problems, blocks = [], 0
    for path in args.files or markdown_files():
        old_text = open(path).read()
        new_text, found = process(path, records, check=args.check)
        blocks += len(BLOCK.findall(old_text))
        problems += found
        if not args.check and new_text != old_text:
            with open(path, 'w') as f:
                f.write(new_text)
            print(f'wrote {osp.relpath(path, ROOT)}')
    if not args.files:
        problems += metafile_problems(records, write=not args.check)
    if args.check:
        for p in problems:
            print(p)
        print(f'{blocks} results blocks, {len(records)} results files: '
              + (f'{len(problems)} differences' if problems else 'all numbers agree'))
        return 1 if problems else 0
    for p in problems:  # templates that cannot be rendered
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
