//! The dnsmasq options file aerie delivers to the frontend passes `dnsmasq --test`
//! on the host, and a DHCP client in another namespace, on a bridge of that host
//! served by dnsmasq with that file, is offered router = the site's external gateway.

use crate::apply_support;
use apply_support::*;

/// Inside the host: a bridge with dnsmasq on it (options as neutron passes them, plus
/// aerie's file), a veth whose far end is moved into a new network namespace where
/// busybox udhcpc asks for a lease and only prints what it was offered.
const DHCP_SCENARIO: &str = r#"set -e
ip link add br-demo type bridge
ip addr add 10.44.8.2/24 dev br-demo
ip link set br-demo up
ip link add vh type veth peer name vc
ip link set vh master br-demo
ip link set vh up
printf '%s\n' '#!/bin/sh' \
  '# prints the offer; changes nothing (the default script rewrites resolv.conf)' \
  '[ "$1" = bound ] && echo "offered ip=$ip router=$router"' \
  'exit 0' > /tmp/print-lease.sh
chmod 755 /tmp/print-lease.sh
dnsmasq --keep-in-foreground --user=root --conf-file=/etc/dnsmasq-nova.conf \
  --interface=br-demo --bind-interfaces --port=0 --no-ping \
  --dhcp-range=set:demo-net,10.44.8.10,10.44.8.200,255.255.255.0 \
  --dhcp-leasefile=/tmp/aerie-test.leases --pid-file=/tmp/aerie-test-dnsmasq.pid &
server=$!
rm -f /tmp/client.pid
unshare --net sh -c 'echo $$ > /tmp/client.pid
  n=0; while ! ip link show vc >/dev/null 2>&1; do sleep 0.05; n=$((n+1)); [ $n -lt 200 ] || exit 9; done
  ip link set lo up; ip link set vc up
  exec busybox udhcpc -i vc -f -q -n -t 5 -T 1 -s /tmp/print-lease.sh' &
client=$!
n=0; while [ ! -s /tmp/client.pid ]; do sleep 0.05; n=$((n+1)); [ $n -lt 200 ] || exit 8; done
ip link set vc netns "$(cat /tmp/client.pid)"
rc=0; wait $client || rc=$?
kill $server
exit $rc
"#;

#[test]
fn dnsmasq_file_passes_test_and_dhcp_offers_the_external_gateway() {
    let tb = testbed(1);
    let site = write_site(&tb, &site_yaml(&tb));
    let kh = known_hosts_copy(&tb);
    let out = apply(&tb, &site, &kh, &[]);
    assert!(out.status.success(), "{}", explain(&out));
    let fe = tb.host(1);

    let check = fe.exec("dnsmasq --test --conf-file=/etc/dnsmasq-nova.conf");
    assert!(check.status.success(), "{}", explain(&check));
    assert!(String::from_utf8_lossy(&check.stderr).contains("syntax check OK"));

    let offer = fe.exec(DHCP_SCENARIO);
    let text = String::from_utf8_lossy(&offer.stdout);
    assert!(offer.status.success(), "{}", explain(&offer));
    assert!(
        text.contains(&format!("router={DEMO_GATEWAY}")),
        "offer: {text}"
    );
}
