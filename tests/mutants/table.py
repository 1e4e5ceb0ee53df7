#!/usr/bin/env python3
"""Collects tests/mutants/score.sh's per-mutant results into OUT/score.json
and OUT/score.md: python3 table.py OUT MUTANTS_DIR."""
import glob, json, os, re, sys

if len(sys.argv) == 3 and sys.argv[1] == '--failed-cases':
    mode = 'failed'
elif len(sys.argv) == 4 and sys.argv[1] == '--case-status':
    mode = 'status'
else:
    mode = 'table'
    out, mutdir = sys.argv[1], sys.argv[2]


def read(p, default=''):
    try:
        with open(p, errors='replace') as f:
            return f.read().strip()
    except OSError:
        return default


def header(m):
    """The one-line comment of what the mutant breaks."""
    p = os.path.join(mutdir, 'patches', m + '.patch')
    first = read(p).split('\n', 1)[0]
    if first.startswith('# '):
        return first[2:].split(': ', 1)[-1]
    if m.startswith('revert-'):
        return 'tests/kernel-reverts/%s.patch (the fix the catalogue case was proven with)' % m[7:]
    return ''


def probe(d, m):
    rc = read(os.path.join(d, 'probe.rc'))
    if not rc:
        return {'state': 'not run'}
    if rc == 'none':
        return {'state': 'no probe'}
    txt = read(os.path.join(d, 'probe.txt'))
    if m == 'stock':  # probes with options of their own ran in guests of their own
        for extra in sorted(glob.glob(os.path.join(d, 'probe-*.txt'))):
            txt += '\n' + read(extra)
    lines = {}
    for l in txt.splitlines():
        g = re.match(r'PROBE (\S+): (\S+)', l)
        if g:
            lines[g.group(1)] = l.split(': ', 1)[1]
    wrong = [l for l in txt.splitlines() if l.startswith('wrong outcome:')]
    klog = [l[len('kernel log: '):] for l in txt.splitlines() if l.startswith('kernel log: ')]
    if m == 'stock':
        bad = {k: v for k, v in lines.items() if not v.startswith('pass')}
        return {'state': 'stock', 'probes': len(lines), 'not_passing_on_stock': bad, 'kernel_log': klog}
    st = lines.get(m, '')
    if st.startswith(('LIVE', 'HANG', 'killed')):
        how = [wrong[0]] if wrong else [st]
        return {'state': 'live', 'how': '; '.join(how + ['kernel log: ' + k for k in klog[:1]])}
    if klog:
        return {'state': 'live', 'how': 'kernel log: ' + klog[0]}
    if 'exec: HANG' in txt or rc == '3':
        return {'state': 'live', 'how': 'hang (exec watchdog)'}
    if st.startswith('pass'):
        return {'state': 'not shown', 'how': 'probe passes'}
    return {'state': 'probe error', 'how': 'vm exit %s; see %s/probe.txt' % (rc, d)}


def cases(d):
    res = {}
    for s in sorted(glob.glob(os.path.join(d, 'catalogue-*.results', '**', 'summary.json'), recursive=True)):
        try:
            j = json.load(open(s))
        except (OSError, ValueError):
            continue
        for c in j.get('cases', []):
            res[c['id']] = c['status']
    # A guest that died mid-chunk leaves the rest of its cases unjudged.
    for rc in glob.glob(os.path.join(d, 'catalogue-*.rc')):
        if read(rc) == '3':
            res.setdefault('(guest hang in %s)' % os.path.basename(rc)[:-3], 'hang')
    return res


if mode == 'failed':  # the cases a mutant's catalogue run failed or hung
    for c, st in sorted(cases(sys.argv[2]).items()):
        if st in ('fail', 'hang') and not c.startswith('('):
            print(c)
    sys.exit(0)
if mode == 'status':  # what stock said of one case, empty when not run
    print(cases(sys.argv[2]).get(sys.argv[3], ''))
    sys.exit(0)


def torture(d):
    runs = []
    for rcf in sorted(glob.glob(os.path.join(d, 'torture-*.rc'))):
        n = os.path.basename(rcf)[:-3]
        if '.repro' in n:
            continue
        seed = n.split('-', 1)[1]
        sj = glob.glob(os.path.join(d, n + '.results', '**', 'torture', 'summary.json'), recursive=True)
        r = {'seed': seed, 'vm_rc': read(rcf)}
        if sj:
            j = json.load(open(sj[0]))
            r.update(status=j.get('status'), ops=j.get('ops'), seconds=j.get('seconds'))
            f = j.get('failure')
            if f:
                r['failure'] = {'kind': f.get('kind'), 'op': f.get('op'), 'msg': f.get('msg'), 'seq': f.get('seq')}
                r['signature'] = '%s/%s' % (f.get('kind'), f.get('op'))
                mini = glob.glob(os.path.join(os.path.dirname(sj[0]), 'minimal.jsonl'))
                if mini:
                    r['shrunk_ops'] = sum(1 for l in open(mini[0]) if '"op"' in l and '"seq"' in l) - 1
            r['repro_on_mutant'] = read(os.path.join(d, n + '.repro-mutant.rc')) or None
            r['repro_on_stock'] = read(os.path.join(d, n + '.repro-stock.rc')) or None
        else:
            r['status'] = 'no result (vm exit %s)' % r['vm_rc']
        runs.append(r)
    return runs


mutants = sorted(m for m in os.listdir(out) if os.path.isdir(os.path.join(out, m)))
stock_probe = probe(os.path.join(out, 'stock'), 'stock') if 'stock' in mutants else {}
stock_passed = set()
for f in glob.glob(os.path.join(out, 'stock', 'probe*.txt')):
    for l in read(f).splitlines():
        g = re.match(r'PROBE (\S+): pass', l)
        if g:
            stock_passed.add(g.group(1))
stock_cases = cases(os.path.join(out, 'stock')) if 'stock' in mutants else {}
stock_sigs = {r.get('signature') for r in torture(os.path.join(out, 'stock')) if r.get('signature')}
rows = []
for m in mutants:
    d = os.path.join(out, m)
    row = {'mutant': m, 'breaks': header(m), 'build_s': read(os.path.join(d, 'build.s')) or None,
           'probe': probe(d, m)}
    # Live only when the same probe passes on stock.
    if row['probe']['state'] == 'live' and m not in stock_passed:
        row['probe']['state'] = 'live on the mutant, stock not checked'

    cs = cases(d)
    row['cases_run'] = len(cs)
    row['killed_by_cases'] = sorted(c for c, s in cs.items() if s in ('fail', 'hang') and stock_cases.get(c) == 'pass')
    row['failed_cases_unchecked_on_stock'] = sorted(c for c, s in cs.items() if s in ('fail', 'hang') and c not in stock_cases)
    row['failed_cases_also_on_stock'] = sorted(c for c, s in cs.items() if s in ('fail', 'hang') and stock_cases.get(c) not in (None, 'pass'))
    row['cases'] = cs
    tr = torture(d)
    for r in tr:
        r['kill'] = bool(m != 'stock' and r.get('status') in ('fail', 'hang') and r.get('repro_on_mutant') not in (None, '0')
                         and r.get('repro_on_stock') == '0' and r.get('signature') not in stock_sigs)
    row['torture'] = tr
    row['killed_by_torture'] = any(r['kill'] for r in tr)
    rows.append(row)

json.dump({'stock_case_failures': sorted(c for c, s in stock_cases.items() if s != 'pass'),
           'stock_torture_signatures': sorted(stock_sigs), 'mutants': rows},
          open(os.path.join(out, 'score.json'), 'w'), indent=2)

md = ['| mutant | what it breaks | live (probe) | killed by cases | killed by torture | build s |', '|---|---|---|---|---|---|']
for r in rows:
    p = r['probe']
    live = p['state'] + (': ' + p['how'] if p.get('how') else '')
    if r['mutant'] == 'stock':
        live = '%d probes, %s' % (p.get('probes', 0), 'all pass' if not p.get('not_passing_on_stock') else 'NOT passing: %s' % p['not_passing_on_stock']) if p['state'] == 'stock' else p['state']
    kc = ', '.join(r['killed_by_cases']) if r['killed_by_cases'] else ('none of %d (%s)' % (r['cases_run'], ', '.join(sorted(r['cases']))) if r['cases_run'] else 'not run')
    if r['failed_cases_unchecked_on_stock']:
        kc += '; fails, stock not checked: ' + ', '.join(r['failed_cases_unchecked_on_stock'])
    if r['failed_cases_also_on_stock']:
        kc += '; fails on stock too: ' + ', '.join(r['failed_cases_also_on_stock'])
    ts = []
    for t in r['torture']:
        if t.get('failure'):
            ts.append('seed %s: %s after %s ops, %.0f s%s; repro mutant/stock %s/%s%s' % (
                t['seed'], t['signature'], t.get('ops'), t.get('seconds') or 0,
                ', shrunk to %s ops' % t['shrunk_ops'] if 'shrunk_ops' in t else '',
                t.get('repro_on_mutant'), t.get('repro_on_stock'), ' KILL' if t['kill'] else ''))
        else:
            ts.append('seed %s: %s%s' % (t['seed'], t.get('status'), ' (%s ops)' % t['ops'] if t.get('ops') else ''))
    md.append('| %s | %s | %s | %s | %s | %s |' % (r['mutant'], r['breaks'].replace('|', '/'), live.replace('|', '/'), kc,
                                                '; '.join(ts) or 'not run', r['build_s'] or ''))
live = [r for r in rows if r['probe']['state'] == 'live']
md += ['', 'live: %d of %d mutants; killed by cases: %d; killed by torture: %d' % (
    len(live), len([r for r in rows if r['mutant'] != 'stock']), len([r for r in rows if r['killed_by_cases']]),
    len([r for r in rows if r['killed_by_torture']]))]
open(os.path.join(out, 'score.md'), 'w').write('\n'.join(md) + '\n')
