"""What the diagnoser knows of a network: its topology summary (the first
window of a session carries it), as lookups the features need."""
import collections


class Topology(object):
    def __init__(self, doc):
        doc = doc or {}
        self.switches = [s['name'] for s in doc.get('switches', [])]
        self.role = dict((s['name'], s.get('role')) for s in doc.get('switches', []))
        self.hosts = dict((h['name'], h) for h in doc.get('hosts', []))
        self.users = [h for h in self.hosts.values() if h.get('role') == 'user']
        self.host_mac = dict((h['mac'], h) for h in self.hosts.values())
        # (switch, port) -> ('host', name) or ('switch', name, port)
        self.port_peer = {}
        self.links = []
        adj = collections.defaultdict(dict)
        for l in doc.get('links', []):
            a, b = l['a'], l['b']
            if a in self.hosts or b in self.hosts:
                host, sw, port = (a, b, l['b_port']) if a in self.hosts else (b, a, l['a_port'])
                self.port_peer[(sw, port)] = ('host', host)
            else:
                self.port_peer[(a, l['a_port'])] = ('switch', b, l['b_port'])
                self.port_peer[(b, l['b_port'])] = ('switch', a, l['a_port'])
                adj[a][b] = l['a_port']
                adj[b][a] = l['b_port']
                self.links.append((a, b))
        self.adj = adj
        self._good_ports = {}

    @property
    def known(self):
        return bool(self.switches)

    def link_name(self, a, b):
        return '%s-%s' % (a, b) if (a, b) in self.links else '%s-%s' % (b, a)

    def good_ports(self, host):
        """switch -> the ports that lead toward 'host' on a shortest path."""
        if host in self._good_ports:
            return self._good_ports[host]
        h = self.hosts[host]
        dist, todo = {h['switch']: 0}, collections.deque([h['switch']])
        while todo:
            a = todo.popleft()
            for b in self.adj[a]:
                if b not in dist:
                    dist[b] = dist[a] + 1
                    todo.append(b)
        good = collections.defaultdict(set)
        good[h['switch']].add(h['port'])
        for sw, d in dist.items():
            for nb, port in self.adj[sw].items():
                if dist.get(nb, 1e9) == d - 1:
                    good[sw].add(port)
        self._good_ports[host] = good
        return good
