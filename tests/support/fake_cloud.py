#!/usr/bin/python3
# aerie test STAND-IN for the cloud's command-line tools, where the real ones cannot run:
# - the Eucalyptus tools (euca_conf, euserv-*), which cannot run on these machines:
#   tests/testbed/register_eucalyptus.rs and the Eucalyptus first boot in
#   tests/testbed/register_firstboot.rs;
# - openstack / nova-manage (and `docker exec nova_api ...`), only where no cloud runs
#   beside the Kolla stand-in: tests/testbed/kolla_deploy.rs's `deploy --check` test
#   (its second half checks a deployed site) and its test of the credentials'
#   delivery from the operator's machine (the networks and register steps after it),
#   and the benchmarks benches/kolla_deploy.rs and benches/firstboot.rs (aerie's own
#   share of a kolla deploy and first boot, by SSH).
# Everything else OpenStack runs against the test bed's real OpenStack
# (tests/support/cloud.rs, tests/cloud/): register, the openstack first boot
# (tests/cloud/register_firstboot.rs), the kolla first boot's networks and register
# steps (tests/cloud/deploy_firstboot.rs), status and its cloud column
# (tests/cloud/status_cloud.rs), networks.
# It records every call the way the harness's stand-ins do
# (/var/log/aerie-standin/<name>.log, one line per call, arguments separated by 0x1f)
# and answers in the real tools' output formats (JSON for `openstack ... -f json`) from
# a small state file the test writes: /var/lib/aerie-standin/cloud.json.
import json, os, sys

NAME = os.path.basename(sys.argv[0])
ARGS = sys.argv[1:]
STATE = "/var/lib/aerie-standin/cloud.json"
LOG = "/var/log/aerie-standin"

os.makedirs(LOG, exist_ok=True)
with open(os.path.join(LOG, NAME + ".log"), "a") as f:
    f.write("\x1f".join(ARGS) + "\n")

with open(STATE) as f:
    st = json.load(f)
nodes = st.setdefault("nodes", {})
CELL = "8a6e1f7f-5f0e-4b7e-9d1c-3c2f1e0a9b11"


def save():
    tmp = STATE + ".tmp"
    with open(tmp, "w") as f:
        json.dump(st, f, indent=1)
    os.rename(tmp, STATE)


def fail(msg, code=1):
    save()
    sys.stderr.write(msg + "\n")
    sys.exit(code)


def injected(cmd):
    msg = st.get("fail", {}).get(cmd)
    if msg:
        fail(msg)


def is_up(n):
    # up_after: the service list shows the node "down" for that many looks, then "up";
    # -1: never up; absent: never listed at all.
    return n.get("up_after", 0) >= 0 and n.get("looks", 0) > n.get("up_after", 0)


def need_credentials():
    if not os.environ.get("OS_AUTH_URL"):
        fail("Missing value auth-url required for auth plugin password")


if NAME == "docker":
    # Kolla's containers: `docker exec nova_api nova-manage ...` is the nova-manage
    # part below; `docker restart nova_compute` does nothing.
    if ARGS[:3] == ["exec", "nova_api", "nova-manage"]:
        NAME, ARGS = "nova-manage", ARGS[3:]
    elif ARGS[:1] == ["restart"]:
        sys.exit(0)
    else:
        fail("docker: unexpected arguments", 2)

if NAME == "openstack":
    need_credentials()
    words = [a for a in ARGS if a not in ("-f", "json")]
    if words[:1] == ["--os-compute-api-version"]:
        words = words[2:]
    if words[:3] == ["compute", "service", "list"]:
        injected("service-list")
        rows = []
        for host, n in sorted(nodes.items()):
            if n.get("absent"):
                continue
            if n.get("deleted"):
                # A deleted service comes back (a new ID) when the node's nova-compute restarts.
                n["gone_looks"] = n.get("gone_looks", 0) + 1
                if n["gone_looks"] <= n.get("reappear_after", 1):
                    continue
                n["deleted"] = False
                n["gone_looks"] = 0
                n["looks"] = 0
                st["next_id"] = st.get("next_id", 100) + 1
                n["service_id"] = st["next_id"]
            n["looks"] = n.get("looks", 0) + 1
            rows.append({"ID": n["service_id"], "Binary": "nova-compute", "Host": n["fqdn"],
                         "Zone": "nova", "Status": "enabled",
                         "State": "up" if is_up(n) else "down",
                         "Updated At": "2026-11-21T18:00:00.000000"})
        save()
        print(json.dumps(rows, indent=2))
    elif words[:3] == ["compute", "service", "delete"]:
        injected("service-delete")
        for host, n in nodes.items():
            if str(n.get("service_id")) == words[3] and not n.get("deleted"):
                n["deleted"] = True
                n["mapped"] = False
                n["looks"] = 0
                save()
                sys.exit(0)
        fail("Failed to delete compute service with ID '%s': Service %s could not be found. (HTTP 404)" % (words[3], words[3]))
    elif words[:2] == ["hypervisor", "list"]:
        injected("hypervisor-list")
        rows = [{"ID": i + 1, "Hypervisor Hostname": n["fqdn"], "Hypervisor Type": "QEMU",
                 "Host IP": n["address"], "State": "up"}
                for i, (h, n) in enumerate(sorted(nodes.items()))
                if n.get("mapped") and not n.get("deleted")]
        save()
        print(json.dumps(rows, indent=2))
    elif words[:2] == ["network", "list"]:
        print(json.dumps([{"ID": n["id"], "Name": n["name"], "Subnets": []}
                          for n in st.get("networks", [])], indent=2))
    elif words[:2] == ["network", "show"]:
        found = [n for n in st.get("networks", []) if words[2] in (n["id"], n["name"])]
        if not found:
            fail("No Network found for %s" % words[2])
        print(json.dumps(found[0], indent=2))
    elif words[:2] == ["network", "create"]:
        injected("network-create")
        def opt(name):
            return words[words.index(name) + 1] if name in words else None
        seg = opt("--provider-segment")
        net = {"id": "net-%d" % (len(st.get("networks", [])) + 1), "name": words[-1],
               "provider:network_type": opt("--provider-network-type"),
               "provider:physical_network": opt("--provider-physical-network"),
               "provider:segmentation_id": int(seg) if seg else None,
               "shared": "--share" in words}
        st.setdefault("networks", []).append(net)
        save()
        print(json.dumps(net, indent=2))
    elif words[:2] == ["subnet", "list"]:
        print(json.dumps([{"ID": x["id"], "Name": x["name"], "Network": x["network_id"],
                           "Subnet": x["cidr"], "Gateway": x["gateway_ip"],
                           "Allocation Pools": x["allocation_pools"],
                           "Name Servers": x["dns_nameservers"], "DHCP": x["enable_dhcp"]}
                          for x in st.get("subnets", [])], indent=2))
    elif words[:2] == ["subnet", "create"]:
        injected("subnet-create")
        def opts(name):
            return [words[i + 1] for i, w in enumerate(words) if w == name]
        pools = []
        for p in opts("--allocation-pool"):
            kv = dict(item.split("=", 1) for item in p.split(","))
            pools.append({"start": kv["start"], "end": kv["end"]})
        gw = opts("--gateway")[0]
        sub = {"id": "subnet-%d" % (len(st.get("subnets", [])) + 1), "name": words[-1],
               "network_id": opts("--network")[0], "cidr": opts("--subnet-range")[0],
               "gateway_ip": None if gw == "none" else gw, "allocation_pools": pools,
               "dns_nameservers": opts("--dns-nameserver"), "enable_dhcp": "--dhcp" in words,
               "ip_version": int(opts("--ip-version")[0])}
        st.setdefault("subnets", []).append(sub)
        save()
        print(json.dumps(sub, indent=2))
    elif words[:2] == ["flavor", "show"]:
        if words[2] in st.get("flavors", []):
            print(json.dumps({"name": words[2]}))
        else:
            fail("No Flavor found for %s" % words[2])
    elif words[:2] == ["flavor", "create"]:
        injected("flavor-create")
        st.setdefault("flavors", []).append(words[2])
        save()
        print(json.dumps({"name": words[2], "id": "f1"}))
    else:
        fail("openstack: '%s' is not an openstack command. See 'openstack --help'." % " ".join(words), 2)

elif NAME == "nova-manage":
    if ARGS[:2] != ["cell_v2", "discover_hosts"]:
        fail("nova-manage: unexpected arguments", 2)
    injected("discover")
    print("Found 2 cell mappings.")
    print("Skipping cell0 since it does not contain hosts.")
    print("Getting computes from cell 'cell1': %s" % CELL)
    found = 0
    for h, n in sorted(nodes.items()):
        if n.get("absent") or n.get("deleted") or n.get("mapped") or not is_up(n) or n.get("never_mapped"):
            continue
        print("Checking host mapping for compute host '%s': 3b1d4c1e-%04d" % (n["fqdn"], n["service_id"]))
        print("Creating host mapping for compute host '%s': 3b1d4c1e-%04d" % (n["fqdn"], n["service_id"]))
        n["mapped"] = True
        found += 1
    print("Found %d unmapped computes in cell: %s" % (found, CELL))
    save()

elif NAME == "euca_conf" and ARGS[:1] == ["--initialize"]:
    # The cloud's first steps (3.x) run as root on the CLC, before any credentials.
    injected("initialize")
    os.makedirs("/var/lib/eucalyptus/db/data", exist_ok=True)
    print("Initializing Eucalyptus database...")
elif NAME == "euca_conf" and ARGS[:1] and ARGS[0] in ("--register-walrus", "--register-cluster", "--register-sc"):
    kind = ARGS[0][len("--register-"):]
    injected("register-" + kind)
    opt = lambda o: ARGS[ARGS.index(o) + 1]
    st.setdefault("components", {}).setdefault(kind, []).append(
        {"partition": opt("--partition"), "host": opt("--host"), "component": opt("--component")})
    save()
    print("SERVICE\t%s\t%s\t%s\tREGISTERED" % (kind.upper(), opt("--partition"), opt("--component")))
elif NAME == "euca_conf" and ARGS[:1] and ARGS[0] in ("--list-walruses", "--list-clusters", "--list-scs"):
    kind = {"--list-walruses": "walrus", "--list-clusters": "cluster", "--list-scs": "sc"}[ARGS[0]]
    for c in st.get("components", {}).get(kind, []):
        print("%s\t%s\t%s\t%s\tENABLED" % (kind.upper(), c["partition"], c["component"], c["host"]))
elif NAME == "clcadmin-initialize-cloud":
    injected("initialize")
    os.makedirs("/var/lib/eucalyptus/db/data", exist_ok=True)
    print("Initializing the cloud database...")
elif NAME == "clcadmin-assume-system-credentials":
    print("export EUCA_KEY_DIR=/root; export AWS_ACCESS_KEY_ID=AKIASTANDIN")

elif NAME == "euca_conf":
    if not os.environ.get("EUCA_KEY_DIR"):
        fail("euca_conf: EUCA_KEY_DIR is not set: source your eucarc")
    reg = st.setdefault("registered", [])
    if ARGS[:1] == ["--list-nodes"]:
        print("registered nodes:")
        for a in reg:
            print("   %s  cluster01  " % a)
    elif ARGS[:1] == ["--register-nodes"]:
        bad = []
        for a in ARGS[1].split():
            print("INFO: We expect all nodes to have eucalyptus installed in //usr/share/eucalyptus for key synchronization.")
            if a in st.get("unreachable", []):
                bad.append(a)
                continue
            print("Adding node '%s' to cluster 'cluster01'" % a)
            if a not in reg:
                reg.append(a)
        if bad:
            fail("ERROR: could not synchronize keys with %s: ssh: connect to host %s port 22: No route to host" % (bad[0], bad[0]))
        save()
    elif ARGS[:1] == ["--deregister-nodes"]:
        for a in ARGS[1].split():
            if a in reg:
                reg.remove(a)
        save()
    else:
        fail("euca_conf: unknown option", 2)

elif NAME.startswith("euserv-"):
    if not os.environ.get("EUCA_KEY_DIR"):
        fail("%s: error: missing access key ID; please supply one with -I" % NAME)
    reg = st.setdefault("registered_nodes", {})
    if NAME == "euserv-describe-node-controllers":
        for name, a in sorted(reg.items()):
            print("NODE\tone\t%s\t%s\tENABLED" % (name, a))
    elif NAME == "euserv-describe-services":
        want = ARGS[ARGS.index("--filter") + 1].split("=", 1)[1] if "--filter" in ARGS else None
        for name, svc in sorted(st.get("services", {}).items()):
            if want in (None, svc["type"]):
                print("SERVICE\t%s\t%s\t%s\tenabled" % (svc["type"], svc.get("zone") or "bootstrap", name))
    elif NAME == "euserv-register-service" and ARGS[ARGS.index("-t") + 1] != "node":
        name = ARGS[-1]
        injected("service:" + name)
        st.setdefault("services", {})[name] = {
            "type": ARGS[ARGS.index("-t") + 1], "host": ARGS[ARGS.index("-h") + 1],
            "zone": ARGS[ARGS.index("-z") + 1] if "-z" in ARGS else None}
        save()
        print("SERVICE\t%s\t\t%s\tarn:euca:bootstrap::%s/" % (st["services"][name]["type"], name, name))
    elif NAME == "euserv-register-service":
        addr = ARGS[ARGS.index("-h") + 1]
        name = ARGS[-1]
        msg = st.get("fail", {}).get("register:" + addr)
        if msg:
            fail(msg)
        reg[name] = addr
        save()
        print("SERVICE\tnode\t\t%s\tarn:euca:bootstrap:one:node:%s/" % (name, name))
    elif NAME == "euserv-deregister-service":
        reg.pop(ARGS[-1], None)
        save()
        print("SERVICE\tnode\t\t%s\tDEREGISTERED" % ARGS[-1])
else:
    fail("fake cloud: unknown tool %s" % NAME, 2)
