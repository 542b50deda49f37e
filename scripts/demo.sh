#!/usr/bin/env bash
# The main job: the end-to-end lab on one machine (root, Debian 12). Installs what is
# missing, builds, brings up topologies/frr-2computes.clab.yml with network namespaces
# (FRR ToR, two computes running edgeflow agents, two VMs, an external client, etcd),
# creates a floating IP for vm1 and shows it working. `bash scripts/demo.sh down` removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
E="node bin/edgeflow.js"
if [ "${1:-}" = down ]; then exec $E lab down; fi
[ "$(id -u)" = 0 ] || { echo "demo: run as root (it creates network namespaces)" >&2; exit 1; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "install and build"
bash scripts/install-deps.sh
npx tsc -p .

step "lab up (namespaces ef-*, FRR ToR, etcd, two agents)"
$E lab up

step "wait for both computes' BGP sessions at the ToR"
for i in $(seq 1 60); do
  up=$(vtysh -N ef-tor -c 'show bgp summary json' | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(1 for p in d["ipv4Unicast"]["peers"].values() if p["state"]=="Established"))' 2>/dev/null || echo 0)
  [ "$up" = 2 ] && break; sleep 1
done
vtysh -N ef-tor -c 'show bgp summary' | sed -n '/Neighbor/,/Total/p'

step "create a floating IP for vm1 (POST /api/v1/floatingips through edgeflow ctl)"
FIP_JSON=$(ip netns exec ef-compute1 $E ctl --token lab-token --json fip create --network ext --tenant t1 --port vm1)
FIP=$(echo "$FIP_JSON" | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d.get("floatingip",d); print(d["address"])')
echo "floating IP $FIP -> vm1 (10.0.0.5 on compute1)"

step "FRR's route to $FIP"
for i in $(seq 1 50); do vtysh -N ef-tor -c "show ip route $FIP/32" | grep -q 192.0.2.11 && break; sleep 0.2; done
vtysh -N ef-tor -c "show ip route $FIP/32" | grep -E 'Routing entry|Known via|via'

step "TCP from the external client to $FIP, answered by vm1"
ip netns exec ef-vm1 node -e "require('net').createServer((s)=>s.end('hello from vm1 (10.0.0.5), you are '+s.remoteAddress+'\n')).listen(8080,()=>setTimeout(()=>process.exit(0),15000))" &
sleep 1
ip netns exec ef-ext node -e "
const s=require('net').connect(8080,'$FIP');s.setTimeout(5000,()=>{console.error('timeout');process.exit(1)});
s.on('data',(d)=>process.stdout.write('ext 203.0.113.10 got: '+d));s.on('end',()=>process.exit(0));s.on('error',(e)=>{console.error(e.message);process.exit(1)})"

step "the agents' view (REST API through edgeflow ctl)"
ip netns exec ef-compute1 $E ctl show bgp summary
ip netns exec ef-compute1 $E ctl show nat | sed -n '1,8p'
ip netns exec ef-compute1 $E ctl fip list

cat <<TXT

== where to go next
  move the FIP to vm2 (planned failover):  ip netns exec ef-compute1 $E ctl --token lab-token fip move <ID> --port vm2
  watch traffic while you do:              ip netns exec ef-vm1 $E probe echo --port 7000 --name vm1 &
                                           ip netns exec ef-vm2 $E probe echo --port 7000 --name vm2 &
                                           ip netns exec ef-ext $E probe send --target $FIP --port 7000 --duration 10
  ToR state:                               vtysh -N ef-tor -c 'show bgp ipv4 unicast'
  API docs (OpenAPI):                      ip netns exec ef-compute1 curl -s 127.0.0.1:8179/docs/json
  tear down:                               bash scripts/demo.sh down
TXT
