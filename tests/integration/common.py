"""Helpers shared by the Python integration tests: named checks with a
report at the end, reading a run directory, and whether the machine is
clean again."""
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import time

results = []


def check(name, ok, detail=''):
    results.append((name, bool(ok), detail))


def report(tmp=None):
    """Prints every check; returns the exit code.  Removes 'tmp' when all
    passed (kept for a look otherwise)."""
    passed = sum(ok for _, ok, _ in results)
    for name, ok, detail in results:
        print('%s %s%s' % ('PASS' if ok else 'FAIL', name, '' if ok else ': %s' % (detail,)))
    print('%d passed, %d failed' % (passed, len(results) - passed))
    if passed == len(results) and tmp:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if passed == len(results) and results else 1


def rows(d, name):
    with open(os.path.join(d, name), newline='') as fh:
        return list(csv.DictReader(fh))


def events(d, unplanned=False):
    """The fault events of faults.jsonl; with 'unplanned', the others (what
    happened that no fault of the plan did)."""
    with open(os.path.join(d, 'faults.jsonl')) as fh:
        evs = [json.loads(line) for line in fh]
    return [e for e in evs if e['event'].startswith('unplanned') == unplanned]


def machine_clean(controllers=True):
    """No bridges, no Mininet (and, with 'controllers', no os-ken) process,
    no state file."""
    bridges = subprocess.run(['ovs-vsctl', 'list-br'], capture_output=True, text=True).stdout
    pattern = 'mininet:|osken-manager' if controllers else 'mininet:'
    procs = subprocess.run(['pgrep', '-f', pattern], capture_output=True, text=True).stdout
    return not bridges.strip() and not procs.strip() and not os.path.exists(
        '/run/simrun/state.json')


def windows(evs):
    """fault id -> [type, target, inject t_s, reverted t_s]"""
    w = {}
    for e in evs:
        rec = w.setdefault(e['id'], [e['type'], e['target'], None, None])
        if e['event'] == 'inject':
            rec[2] = e['t_s']
        elif e['event'] == 'reverted':
            rec[3] = e['t_s']
    return w


def label_errors(samples, w, host_switch=None):
    """Rows whose label, fault id or on_target flag disagrees with the
    fault windows 'w' (see windows()).  Where windows overlap, the fault
    injected last labels the row.  A fault on a host touches its switch
    ('host_switch': host -> switch, from topology.json's hosts)."""
    host_switch = host_switch or {}
    bad = []
    for r in samples:
        t = float(r['t_s'])
        active = [(t0, fid, ftype, target) for fid, (ftype, target, t0, t1) in w.items()
                  if t0 is not None and t1 is not None and t0 <= t < t1]
        want = max(active)[2] if active else 'normal'
        if active:
            _, fid, _, target = max(active)
            on = target == 'all' or r['switch'] in target.split('-') or \
                r['switch'] == host_switch.get(target)
            if r['fault_id'] != str(fid) or (r['on_target'] == '1') != on:
                bad.append((r['sweep'], r['switch'], r['fault_id'], r['on_target']))
        if r['label'] != want:
            bad.append((r['sweep'], r['switch'], r['label'], want))
    return bad


def epoch(iso):
    """Seconds since the epoch of an ISO time such as 2026-11-22T01:02:03.456Z."""
    return time.mktime(time.strptime(iso[:19], '%Y-%m-%dT%H:%M:%S')) - time.timezone + \
        float('0.' + iso[20:23])


def video_drop_variant(src, tmp, name, edits, text=None):
    """Writes tmp/NAME.toml: scenarios/video_drop.toml (or 'text', made
    from it) with each (old, new) of 'edits' replaced once; stops when
    video_drop.toml no longer has what a test replaces."""
    if text is None:
        text = open(os.path.join(src, 'scenarios', 'video_drop.toml')).read()
    for old, new in edits:
        if old not in text:
            raise SystemExit('video_drop.toml changed: no %r in it; update this test' % old)
        text = text.replace(old, new, 1)
    path = os.path.join(tmp, name + '.toml')
    with open(path, 'w') as fh:
        fh.write(text)
    return path


class SshServer(object):
    """Debian's sshd in the foreground (-D) on 127.0.0.1, a free port, for
    root with a key of its own: 'hostkey', 'userkey' (private key files),
    'known_hosts' (a file with the host key), all in 'tmp'.

    sshd runs every command through root's login shell, which reads
    ~/.bashrc; this sshd sees an empty one (a private mount namespace binds
    /dev/null over it), as a lab server's root would have, so that what a
    developer's .bashrc does (this machine's runs 'pyenv init', which can
    wait 60 s on a stale lock) decides nothing."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.hostkey, self.userkey = self.keygen('hostkey'), self.keygen('userkey')
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        self.port = s.getsockname()[1]
        s.close()
        self.known_hosts = os.path.join(tmp, 'known_hosts')
        with open(self.known_hosts, 'w') as fh:
            fh.write('[127.0.0.1]:%d %s\n' % (self.port, ' '.join(
                open(self.hostkey + '.pub').read().split()[:2])))
        port, hostkey, userkey = self.port, self.hostkey, self.userkey
        self.config = os.path.join(tmp, 'sshd_config')
        with open(os.path.join(tmp, 'authorized_keys'), 'w') as fh:
            fh.write(open(userkey + '.pub').read())
        os.chmod(os.path.join(tmp, 'authorized_keys'), 0o600)
        with open(self.config, 'w') as fh:
            fh.write('Port %d\nListenAddress 127.0.0.1\nHostKey %s\n'
                     'AuthorizedKeysFile %s/authorized_keys\n'
                     'PermitRootLogin prohibit-password\nPasswordAuthentication no\n'
                     'KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n'
                     'PidFile %s/sshd.pid\nSubsystem sftp internal-sftp\n'
                     % (port, hostkey, tmp, tmp))
        os.makedirs('/run/sshd', mode=0o755, exist_ok=True)
        self.proc = None

    def keygen(self, name):
        path = os.path.join(self.tmp, name)
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', path], check=True)
        return path

    def start(self):
        bashrc = os.path.expanduser('~root/.bashrc')
        bind = ('mount --bind /dev/null %s && ' % bashrc) if os.path.exists(bashrc) else ''
        self.proc = subprocess.Popen(
            ['unshare', '-m', '--propagation', 'private', 'sh', '-c',
             bind + 'exec /usr/sbin/sshd -D -f %s -E %s/sshd.log' % (self.config, self.tmp)])
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(('127.0.0.1', self.port), 1).close()
                return True
            except OSError:
                time.sleep(0.1)
        return False

    def descendants(self):
        """The listener and every session process it forked."""
        kids = {}
        for p in os.listdir('/proc'):
            if p.isdigit():
                try:
                    with open('/proc/%s/stat' % p) as fh:
                        ppid = int(fh.read().rsplit(')', 1)[1].split()[1])
                    kids.setdefault(ppid, []).append(int(p))
                except (OSError, ValueError, IndexError):
                    pass
        found, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo += [k for k in kids.get(pid, []) if self.is_sshd(k)]
        return found

    @staticmethod
    def is_sshd(pid):
        try:
            with open('/proc/%d/cmdline' % pid, 'rb') as fh:
                return fh.read().startswith(b'sshd')
        except OSError:
            return False

    def kill(self):
        """SIGKILL to the listener and its sessions, as a server that dies."""
        for pid in self.descendants():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.kill()
