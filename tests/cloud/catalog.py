"""aerie test bed: the catalog entries keystone-manage bootstrap does not make.

One process (python startup and token once): placement, compute and network
services with their endpoints on the frontend. The services authenticate as
admin (a test bed; a real cloud has a user per service).
"""
import sys

from keystoneauth1 import session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client

fe, password = sys.argv[1], sys.argv[2]
auth = v3.Password(auth_url=f"http://{fe}:5000/v3", username="admin", password=password,
                   project_name="admin", user_domain_id="default", project_domain_id="default")
ks = client.Client(session=session.Session(auth=auth))
have = {s.type for s in ks.services.list()}
for name, kind, url in [
    ("placement", "placement", f"http://{fe}:8778"),
    ("nova", "compute", f"http://{fe}:8774/v2.1"),
    ("neutron", "network", f"http://{fe}:9696"),
]:
    if kind in have:
        continue
    svc = ks.services.create(name=name, type=kind)
    for iface in ("public", "internal", "admin"):
        ks.endpoints.create(service=svc, url=url, interface=iface, region="RegionOne")
