"""aerie test bed: wait for the cloud, from inside the frontend (admin openrc sourced).

probe.py ready TIMEOUT HOST...     until nova lists nova-compute up on every HOST,
                                   conductor and scheduler up, and neutron's DHCP
                                   agent alive
probe.py dhcp-ports TIMEOUT NET    until network NET has a DHCP port; prints
                                   "<tap device> <segmentation id>" per port.
                                   STAND-IN for the L2 agent's part: neutron's DHCP
                                   scheduler places a VLAN network only on hosts whose
                                   L2 agent reports the physnet, and none runs here, so
                                   the network is added to the DHCP agent by hand first

One process polls through the SDK (a CLI call costs seconds of start-up each).
Exits 1 with what is missing when TIMEOUT (seconds) runs out.
"""
import sys
import time

import openstack

mode, timeout, args = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
deadline = time.monotonic() + timeout
conn = openstack.connect()


def ready():
    up = {(s.binary, s.host) for s in conn.compute.services() if s.state == "up"}
    missing = [f"nova-compute on {h}" for h in args if ("nova-compute", h) not in up]
    for binary in ("nova-conductor", "nova-scheduler"):
        if not any(b == binary for b, _ in up):
            missing.append(binary)
    agents = [a for a in conn.network.agents() if a.agent_type == "DHCP agent" and a.is_alive]
    if not agents:
        missing.append("neutron DHCP agent")
    return missing, None


def dhcp_ports():
    net = conn.network.find_network(args[0], ignore_missing=False)
    if not list(conn.network.network_hosting_dhcp_agents(net)):
        agent = next(a for a in conn.network.agents() if a.agent_type == "DHCP agent")
        conn.network.add_dhcp_agent_to_network(agent, net)
    ports = list(conn.network.ports(network_id=net.id, device_owner="network:dhcp"))
    if not ports:
        return [f"DHCP port of {args[0]}"], None
    return [], [f"tap{p.id[:11]} {net.provider_segmentation_id}" for p in ports]


check = {"ready": ready, "dhcp-ports": dhcp_ports}[mode]
while True:
    try:
        missing, result = check()
    except Exception as e:  # the services are still coming up
        missing, result = [f"{type(e).__name__}: {e}"], None
    if not missing:
        for line in result or []:
            print(line)
        sys.exit(0)
    if time.monotonic() > deadline:
        print("not ready after %ds: %s" % (timeout, ", ".join(missing)), file=sys.stderr)
        sys.exit(1)
    time.sleep(1)
