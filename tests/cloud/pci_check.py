"""aerie test: what nova's own PCI parsers make of a nova.conf aerie wrote.

pci_check.py NOVA_CONF ALIAS_REQUEST...

Run with the test bed's venv python (nova from tests/cloud/requirements.txt). Loads
the file the way nova's services do (oslo.config, project nova), then prints one
JSON object on stdout:

  device_spec  every [pci] device_spec entry as nova.pci.whitelist parses it
               (vendor_id, product_id, the tags)
  assignable   for a few sample devices (a VF and the PF of the intended card, and a
               device of another vendor), whether nova's whitelist lets a guest have it
  aliases      [pci] alias as nova.pci.request.get_alias_from_config reads it
  requests     for each ALIAS_REQUEST (a flavor's `pci_passthrough:alias` value, e.g.
               `ib-vf:1`), the InstancePCIRequests nova makes of it: count and specs

Exits non-zero with nova's own message when nova refuses the file.
"""
import json
import sys
import warnings

warnings.simplefilter("ignore")

import nova.conf  # noqa: E402
from nova import objects  # noqa: E402
from nova.pci import request, whitelist  # noqa: E402

path, alias_requests = sys.argv[1], sys.argv[2:]
CONF = nova.conf.CONF
CONF(["--config-file", path], project="nova", default_config_files=[])
objects.register_all()

wl = whitelist.Whitelist(CONF.pci.device_spec)
specs = []
for s in wl.specs:
    specs.append({
        "vendor_id": s.vendor_id,
        "product_id": s.product_id,
        "tags": {k: str(v) for k, v in s.get_tags().items()},
    })

SAMPLES = {
    "vf": {"vendor_id": "15b3", "product_id": "1004", "dev_type": "type-VF",
           "address": "0000:81:00.1", "parent_addr": "0000:81:00.0"},
    "pf": {"vendor_id": "15b3", "product_id": "1003", "dev_type": "type-PF",
           "address": "0000:81:00.0"},
    "other-vendor": {"vendor_id": "8086", "product_id": "1004", "dev_type": "type-VF",
                     "address": "0000:82:00.1", "parent_addr": "0000:82:00.0"},
}
assignable = {name: wl.device_assignable(dev) is not None for name, dev in SAMPLES.items()}

aliases = {
    name: {"numa_policy": policy, "specs": spec_list}
    for name, (policy, spec_list) in request.get_alias_from_config().items()
}

requests = {}
for value in alias_requests:
    reqs = request._translate_alias_to_requests(value)
    requests[value] = [
        {"alias_name": r.alias_name, "count": r.count, "spec": r.spec} for r in reqs
    ]

json.dump({"device_spec": specs, "assignable": assignable, "aliases": aliases,
           "requests": requests}, sys.stdout, indent=1, sort_keys=True)
print()
