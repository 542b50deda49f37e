#!/usr/bin/env bash
# Installs what edgeflow's build, tests and lab need on Debian 12: the real peers
# (FRR, BIRD, GoBGP), etcd, the kernel tools (nftables and its python3-nftables binding,
# conntrack, iproute2, iptables for the comparison benchmark), tshark for captures, and
# the npm dependencies.
# Idempotent: it installs only what is missing, and runs apt-get update at most once.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "$1" ]; }
have /usr/lib/frr/bgpd || need+=(frr)
have bird || need+=(bird2)
have gobgpd || need+=(gobgpd)
have etcd || need+=(etcd-server)
have etcdctl || need+=(etcd-client)
have nft || need+=(nftables)
have conntrack || need+=(conntrack)
have iptables || need+=(iptables)
have tshark || need+=(tshark)
have ip || need+=(iproute2)
have arping || need+=(iputils-arping)
have python3 || need+=(python3)
# nat/nftd.py (NatManager's nft helper) runs on Debian's interpreter, not a python3 on PATH
/usr/bin/python3 -c 'import nftables' >/dev/null 2>&1 || need+=(python3-nftables)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "install-deps: need root to install: ${need[*]}" >&2; exit 1; fi
  echo "install-deps: apt-get install ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # The packaged daemons must not run on their own: our tests start them, per namespace.
  for s in frr bird gobgpd etcd; do systemctl disable --now "$s" >/dev/null 2>&1 || true; done
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund >/dev/null
fi
