"""simrun report on a live and a finished run, opened in a real browser.

A shortened video_drop (40 s, the drop rule from 15 s to 27 s) runs while
`simrun report --watch` renders it every 2 s: the page written during the
run reloads itself, the last one (after the run ended, which ends the
watch by itself) does not.  Then `simrun report` writes report.html and
Debian's Chromium opens it headless (--dump-dom and --screenshot): no
console message, and the DOM as Chromium built it holds the topology with
the target marked, the fault window over the time faults.jsonl gives, and
a viewer whose bitrate curve falls to ~0 during the drop
(tests/report_check.py).  Exit 77 without root."""
import os
import subprocess
import sys
import tempfile
import time

from common import check, machine_clean, report, video_drop_variant

SIMRUN, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
TMP = tempfile.mkdtemp(prefix='simrun-report-it-')
sys.path.insert(0, os.path.join(SRC, 'tests'))
import report_check  # noqa: E402

CHROMIUM = ['chromium', '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
            '--enable-logging=stderr', '--v=0', '--user-data-dir=' + os.path.join(TMP, 'profile')]


def main():
    if os.geteuid() != 0:
        print('skipped: needs root')
        return 77
    scn = video_drop_variant(SRC, TMP, 'video_drop', (
        ('duration = "150s"', 'duration = "40s"'), ('warmup = "20s"', 'warmup = "10s"'),
        ('at = "60s"', 'at = "15s"'), ('duration = "45s"', 'duration = "12s"')))
    d = os.path.join(TMP, 'run')
    live = os.path.join(TMP, 'live.html')
    run = subprocess.Popen([SIMRUN, scn, '--out', d, '--quiet'], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    watch = subprocess.Popen([SIMRUN, 'report', '--watch', '--every', '2', '-o', live, d],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen_live, looks = False, []
    while run.poll() is None:
        if os.path.exists(live):
            page = open(live, encoding='utf-8').read()
            looks.append(('http-equiv="refresh"' in page, '(still running)' in page))
            seen_live |= looks[-1] == (True, True)
        time.sleep(0.5)
    out, err = run.communicate()
    check('the run completes', run.returncode == 0, err[-1500:])
    check('--watch wrote a reloading page while the run went on', seen_live, looks[:5])
    try:
        watch.wait(60)
    except subprocess.TimeoutExpired:
        watch.kill()
    check('--watch ends by itself when the run ends', watch.returncode == 0, watch.stderr.read())
    final = open(live, encoding='utf-8').read() if os.path.exists(live) else ''
    check("the watch's last page no longer reloads and shows the end",
          final and 'http-equiv="refresh"' not in final and '(still running)' not in final)

    res = subprocess.run([SIMRUN, 'report', d], capture_output=True, text=True, timeout=120)
    page = os.path.join(d, 'report.html')
    check('simrun report writes RUNDIR/report.html', res.returncode == 0 and
          os.path.exists(page), res.stderr)
    size = os.path.getsize(page) if os.path.exists(page) else 0
    check('the page is small', 0 < size < 5e6, size)
    dom = subprocess.run(CHROMIUM + ['--dump-dom', 'file://' + page], capture_output=True,
                         text=True, timeout=180)
    console = [line for line in dom.stderr.splitlines() if 'CONSOLE' in line]
    check('Chromium opens the page', dom.returncode == 0 and '</html>' in dom.stdout,
          dom.stderr[-800:])
    check('no console messages', not console, console[:3])
    for what, ok, detail in report_check.check_page(dom.stdout, d):
        check('in the browser: ' + what, ok, detail)
    shot = os.path.join(TMP, 'report.png')
    res = subprocess.run(CHROMIUM + ['--window-size=1100,2400', '--screenshot=' + shot,
                                     'file://' + page], capture_output=True, text=True,
                         timeout=180)
    check('Chromium takes a screenshot', res.returncode == 0 and os.path.exists(shot) and
          os.path.getsize(shot) > 50000, res.stderr[-500:])
    check('the machine is clean', machine_clean())
    return report(TMP)


if __name__ == '__main__':
    sys.exit(main())
