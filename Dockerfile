# The `edgeflow` image the containerlab topologies use for the computes
# (image: edgeflow:lab in topologies/*.clab.yml):
#
#   docker build -t edgeflow:lab .
#   containerlab deploy -t topologies/frr-2computes.clab.yml
#
# It carries the agent (node bin/edgeflow.js, on PATH as `edgeflow`) and the kernel tools
# the agent drives: nftables (and python3-nftables for nat/nftd.py), conntrack, iproute2.
# The probe (`edgeflow probe`) is in it too.
# Not built or tested on the machine this was written on: it has no Docker engine (the
# netns runner, `edgeflow lab up`, is how the same topologies run there).

# --- build: compile TypeScript with the dev dependencies -------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY bgp ./bgp
COPY nat ./nat
COPY dynrouting ./dynrouting
COPY agent ./agent
COPY store ./store
COPY topologies ./topologies
COPY cli ./cli
COPY bin ./bin
COPY test ./test
COPY bench ./bench
# tsc emits JavaScript even when type errors are reported; fail only if the CLI is missing.
RUN npx tsc -p . || true; test -f dist/cli/main.js

# --- runtime: production dependencies, compiled code, kernel tools ----------------------
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends nftables python3-nftables conntrack iproute2 iputils-ping procps ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/edgeflow
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=build /src/dist ./dist
# NatManager's nft helper, found beside the compiled code (dist/nat/ → nat/nftd.py)
COPY nat/nftd.py ./nat/nftd.py
COPY bin ./bin
COPY topologies ./topologies
RUN ln -s /opt/edgeflow/bin/edgeflow.js /usr/local/bin/edgeflow && chmod +x bin/edgeflow.js
# The agent's config is mounted here by the topologies' binds.
VOLUME ["/etc/edgeflow"]
# containerlab starts the node's `cmd` (edgeflow agent --config /etc/edgeflow/agent.yaml).
CMD ["edgeflow", "--help"]
