# simrun's helper on a lab server.  simrun (on the user's machine) puts
# this file into the run's private directory on the server over SFTP and
# runs it over SSH, as root (or through 'sudo -n'):
#
#   preflight --switches c1,c2 [--osken]
#       checks what a run needs and prints one JSON object: the problems,
#       each with the command that fixes it, two free TCP ports on
#       127.0.0.1, the machine's architecture, where simtraffic is;
#       starts Open vSwitch when it is installed but not running.
#   guard [--lock] [--grace S] [--signal N] [--env K=V]... -- ARGV...
#       runs ARGV in a session of its own with this process's stdin, stdout
#       and stderr passed through; when stdin ends (simrun closed the channel, or the SSH
#       connection is gone), waits up to S seconds for ARGV to end on its
#       own, then sends it signal N (then SIGKILL).  With --lock it holds
#       /run/simrun/lock while ARGV runs: one run owns the server's network,
#       as on a machine where simrun runs itself.
#   clean --base DIR
#       removes what a lost run left: its processes, the processes in its
#       hosts' namespaces (from the hosts.json its Mininet script wrote),
#       tagged Open vSwitch bridges, the run's network devices, and the run
#       directories under DIR; prints one line per thing removed.
#
# Nothing from a scenario is run: every argument comes from simrun, which
# quotes each word for the shell.
import argparse
import errno
import fcntl
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

STATE_DIR = '/run/simrun'
LOCK_FILE = STATE_DIR + '/lock'
STATE_FILE = STATE_DIR + '/state.json'
DEVGROUP = 21330
OVS_CTL = '/usr/share/openvswitch/scripts/ovs-ctl'


def lock(block=False):
    """The machine's simrun lock, held (an open file) or None when another
    run holds it."""
    os.makedirs(STATE_DIR, mode=0o700, exist_ok=True)
    fd = os.open(LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return None
        raise
    return fd


def run_quiet(argv, timeout=30):
    try:
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout).returncode
    except (OSError, subprocess.TimeoutExpired):
        return -1


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(('127.0.0.1', 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def preflight(args):
    problems = []
    info = {'uid': os.geteuid(), 'arch': platform.machine(),
            'simtraffic': shutil.which('simtraffic'), 'ovs_started': False}
    if os.geteuid() != 0:
        problems.append('simrun needs root on the lab server (log in as root, or give '
                        'the user sudo without a password)')
    install = 'apt-get install openvswitch-switch mininet python3-os-ken ethtool iproute2'
    for tool, package in (('ovs-vsctl', 'openvswitch-switch'),
                          ('ovs-ofctl', 'openvswitch-switch'), ('ip', 'iproute2'),
                          ('tc', 'iproute2'), ('ethtool', 'ethtool')):
        if not shutil.which(tool):
            problems.append('%s is missing: apt-get install %s' % (tool, package))
    if not os.path.exists('/usr/lib/python3/dist-packages/mininet/net.py'):
        problems.append('Mininet is missing for /usr/bin/python3: apt-get install mininet')
    if args.osken:
        if not shutil.which('osken-manager') or not os.path.exists(
                '/usr/lib/python3/dist-packages/os_ken/__init__.py'):
            problems.append('os-ken (the embedded controller) is missing: '
                            'apt-get install python3-os-ken')
        else:
            info['osken'] = shutil.which('osken-manager')
    if shutil.which('ovs-vsctl') and os.geteuid() == 0:
        if run_quiet(['ovs-vsctl', '--timeout=5', 'show'], 10) != 0:
            if os.path.exists(OVS_CTL):
                run_quiet([OVS_CTL, 'start', '--system-id=random'], 60)
                info['ovs_started'] = True
            if run_quiet(['ovs-vsctl', '--timeout=5', 'show'], 10) != 0:
                problems.append('Open vSwitch is not running and could not be started: '
                                '%s start (see /var/log/openvswitch/ovs-vswitchd.log)'
                                % OVS_CTL)
        else:
            out = subprocess.run(['ovs-vsctl', '--timeout=10', 'list-br'],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                 universal_newlines=True).stdout.split()
            ours = set(filter(None, args.switches.split(',')))
            clash = sorted(ours.intersection(out))
            if clash:
                problems.append('Open vSwitch on the lab server already has bridges named '
                                'like this scenario\'s switches (%s): remove them or run '
                                '\'simrun clean --remote\'' % ', '.join(clash[:8]))
    if os.geteuid() == 0:
        fd = lock()
        if fd is None:
            problems.append('another simrun run owns the network on the lab server; wait '
                            'for it or stop it')
        else:
            os.close(fd)
            if os.path.exists(STATE_FILE):
                problems.append('a run on the lab server ended without tearing its network '
                                'down: run \'simrun clean\' there, or \'simrun clean '
                                '--remote\'')
    info['ports'] = free_ports(2)
    info['problems'] = problems
    info['install'] = install
    print(json.dumps(info, sort_keys=True))
    return 0


def guard(args):
    held = None
    if args.lock:
        held = lock()
        if held is None:
            sys.stderr.write('simrun: another simrun run owns the network on the lab '
                             'server\n')
            return 75
    env = dict(os.environ)
    for kv in args.env:
        key, _, value = kv.partition('=')
        env[key] = value
    argv = args.argv[1:] if args.argv[:1] == ['--'] else args.argv
    # Its output comes through this process: when the connection is gone,
    # writing it fails here and is dropped, and the child, whose pipes stay
    # open, puts its network away undisturbed.
    child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env, start_new_session=True)
    # Its stdin is ours, passed on: when ours ends, so does its (and the
    # network's life, for the Mininet script).
    ended = threading.Event()

    def pass_stdin():
        try:
            while True:
                data = os.read(0, 65536)
                if not data:
                    break
                child.stdin.write(data)
                child.stdin.flush()
        except OSError:
            pass
        try:
            child.stdin.close()
        except OSError:
            pass
        ended.set()

    def pass_out(src, fd):
        broken = False
        while True:
            data = os.read(src.fileno(), 65536)
            if not data:
                break
            if not broken:
                try:
                    os.write(fd, data)
                except OSError:
                    broken = True
                    ended.set()

    threading.Thread(target=pass_stdin, daemon=True).start()
    relays = [threading.Thread(target=pass_out, args=(child.stdout, 1)),
              threading.Thread(target=pass_out, args=(child.stderr, 2))]
    for t in relays:
        t.daemon = True
        t.start()
    signal.signal(signal.SIGTERM, lambda *_: ended.set())
    signal.signal(signal.SIGHUP, lambda *_: ended.set())
    while child.poll() is None and not ended.wait(0.2):
        pass
    if child.poll() is None:
        try:
            child.wait(args.grace)
        except subprocess.TimeoutExpired:
            for sig, wait in ((args.signal, 30 + 0.25 * args.size), (signal.SIGKILL, 5)):
                try:
                    os.killpg(child.pid, sig)
                except OSError:
                    pass
                try:
                    child.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
    status = child.wait()
    for t in relays:
        t.join(5)
    if held is not None:
        os.close(held)
    return status if status >= 0 else 128 - status


def netns(pid):
    try:
        return os.readlink('/proc/%d/ns/net' % pid)
    except OSError:
        return None


def proc_start(pid):
    """A process's start time (clock ticks after boot), None when gone."""
    try:
        with open('/proc/%d/stat' % pid) as fh:
            return int(fh.read().rsplit(')', 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def is_host(pid, host):
    """Whether process 'pid', in the namespace 'host' (of hosts.json)
    names, is in that host: its shell still running (same PID and start
    time), or the namespace still holding the host's interfaces (a
    namespace number is reused once its namespace is gone)."""
    if pid == host.get('pid') and proc_start(pid) == host.get('start'):
        return True
    try:
        with open('/proc/%d/net/dev' % pid) as fh:
            names = set(line.split(':')[0].strip() for line in fh.readlines()[2:])
    except OSError:
        return False
    wanted = host.get('interfaces') or []
    return bool(wanted) and all(i in names for i in wanted)


def cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().replace(b'\0', b' ').decode('utf-8', 'replace')
    except OSError:
        return ''


def clean(args):
    fd = lock()
    if fd is None:
        print('busy: a simrun run owns the network on the lab server')
        return 75
    me = os.getpid()
    root_ns = netns(os.getpid())
    pids = [int(p) for p in os.listdir('/proc') if p.isdigit() and int(p) != me]
    base = args.base.rstrip('/') + '/'
    # The run's processes (the controller, the Mininet script, the agents
    # and the guards run from files in the run directory), then whatever
    # lives in a Mininet host's namespace.
    ours = [p for p in pids if base in cmdline(p) and p != os.getppid()]
    for p in ours:
        try:
            os.kill(p, signal.SIGKILL)
            print('process %d (%s)' % (p, cmdline(p)[:60].strip() or 'gone'))
        except OSError:
            pass
    # The hosts' namespaces, from what each run's Mininet script wrote into
    # its directory -- never another Mininet's on this server.
    spaces = {}
    for path in run_dirs(args.base, args.keep):
        try:
            with open(os.path.join(path, 'hosts.json')) as fh:
                hosts = json.load(fh)
        except (OSError, ValueError):
            continue
        for name, host in sorted(hosts.items()):
            if isinstance(host, dict) and host.get('netns') and host['netns'] != root_ns:
                spaces[host['netns']] = (name, host)
    for ns, (name, host) in sorted(spaces.items()):
        n = 0
        for p in pids:
            if netns(p) == ns and is_host(p, host):
                try:
                    os.kill(p, signal.SIGKILL)
                    n += 1
                except OSError:
                    pass
        if n:
            print('host %s (%d process%s)' % (name, n, '' if n == 1 else 'es'))
    if shutil.which('ovs-vsctl'):
        listed = subprocess.run(['ovs-vsctl', '--timeout=10', '--format=csv', '--data=bare',
                                 '--no-headings', '--columns=name,external_ids', 'list',
                                 'bridge'], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, universal_newlines=True).stdout
        for line in listed.splitlines():
            name = line.split(',')[0]
            if 'simrun-run=' in line and name:
                if run_quiet(['ovs-vsctl', '--timeout=10', '--if-exists', 'del-br',
                              name]) == 0:
                    print('Open vSwitch bridge %s' % name)
    shown = subprocess.run(['ip', '-o', 'link', 'show', 'group', str(DEVGROUP)],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           universal_newlines=True).stdout
    if shown.strip():
        if run_quiet(['ip', 'link', 'del', 'group', str(DEVGROUP)]) == 0:
            print('%d network devices of group %d' % (len(shown.strip().splitlines()),
                                                       DEVGROUP))
    for path in run_dirs(args.base, args.keep):
        shutil.rmtree(path, ignore_errors=True)
        print('run directory %s' % path)
    os.close(fd)
    return 0


def run_dirs(base, keep):
    """The run directories under 'base' but 'keep' (this clean's own)."""
    if not os.path.isdir(base):
        return []
    keep = os.path.realpath(keep or '/nonexistent')
    return [os.path.join(base, name) for name in sorted(os.listdir(base))
            if os.path.isdir(os.path.join(base, name)) and
            not os.path.islink(os.path.join(base, name)) and
            os.path.realpath(os.path.join(base, name)) != keep]


def main():
    parser = argparse.ArgumentParser(description="simrun's helper on a lab server")
    sub = parser.add_subparsers(dest='what')
    p = sub.add_parser('preflight')
    p.add_argument('--switches', default='')
    p.add_argument('--osken', action='store_true')
    p = sub.add_parser('guard')
    p.add_argument('--lock', action='store_true')
    p.add_argument('--grace', type=float, default=0.0)
    p.add_argument('--signal', type=int, default=signal.SIGTERM)
    p.add_argument('--size', type=int, default=0)
    p.add_argument('--env', action='append', default=[])
    p.add_argument('argv', nargs=argparse.REMAINDER)
    p = sub.add_parser('clean')
    p.add_argument('--base', required=True)
    p.add_argument('--keep', default=None)
    args = parser.parse_args()
    if args.what == 'preflight':
        return preflight(args)
    if args.what == 'guard':
        return guard(args)
    if args.what == 'clean':
        return clean(args)
    parser.print_usage(sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main())
