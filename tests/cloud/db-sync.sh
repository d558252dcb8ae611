#!/bin/sh
# aerie test bed: create the schemas of the frontend's services, in the
# frontend (tests/support/cloud.rs runs it with the venv on PATH). Four
# independent chains run in parallel; each one's output goes to its log.
set -u
ADMIN_PASSWORD=$1 FE=$2 LOGS=$3
mkdir -p "$LOGS"
(
  set -e
  keystone-manage db_sync
  keystone-manage fernet_setup --keystone-user root --keystone-group root
  keystone-manage credential_setup --keystone-user root --keystone-group root
  keystone-manage bootstrap --bootstrap-password "$ADMIN_PASSWORD" \
    --bootstrap-admin-url "http://$FE:5000/v3" --bootstrap-internal-url "http://$FE:5000/v3" \
    --bootstrap-public-url "http://$FE:5000/v3" --bootstrap-region-id RegionOne
) >"$LOGS/keystone.log" 2>&1 &
k=$!
placement-manage db sync >"$LOGS/placement.log" 2>&1 &
p=$!
(
  set -e
  nova-manage api_db sync
  nova-manage cell_v2 map_cell0
  nova-manage cell_v2 create_cell --name cell1
  nova-manage db sync
) >"$LOGS/nova.log" 2>&1 &
n=$!
neutron-db-manage --config-file /etc/neutron/neutron.conf \
  --config-file /etc/neutron/plugins/ml2/ml2_conf.ini upgrade heads >"$LOGS/neutron.log" 2>&1 &
q=$!
rc=0
for job in "keystone $k" "placement $p" "nova $n" "neutron $q"; do
  set -- $job
  if ! wait "$2"; then
    echo "db-sync: $1 failed; its log, $LOGS/$1.log:" >&2
    tail -n 30 "$LOGS/$1.log" >&2
    rc=1
  fi
done
exit $rc
