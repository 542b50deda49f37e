#!/usr/bin/python3
# nftd: the nftables helper of nat/ (client: nat/nftd.ts). It keeps one libnftables
# context (Debian package python3-nftables, the binding shipped with nftables) and runs
# the scripts NatManager sends, so a change costs no process spawn and no cold cache.
# One script is one nft_run_cmd_from_buffer() call: its commands are one netlink batch,
# which the kernel applies atomically (all or nothing).
#
# Framing, both directions length-prefixed (byte counts of UTF-8 text):
#   request   "T <n>\n" + n bytes of nft script (text output)
#             "J <n>\n" + n bytes of nft script (JSON output, `nft -j`)
#   reply     "<rc> <out bytes> <err bytes>\n" + out + err
# At start it writes "nftd 1\n" once libnftables is loaded. It exits at end of input.
import os
import sys


def main():
    # Our replies go to a private copy of stdout; fd 1 becomes stderr, so nothing a
    # library prints can break the framing.
    proto = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    import nftables  # noqa: E402 (after the redirect: an import error goes to stderr)

    nft = nftables.Nftables()
    inp = sys.stdin.buffer
    proto.write(b"nftd 1\n")
    proto.flush()
    while True:
        head = inp.readline()
        if not head:
            return
        parts = head.split()
        if len(parts) != 2 or parts[0] not in (b"T", b"J") or not parts[1].isdigit():
            sys.stderr.write("nftd: bad request header %r\n" % head[:80])
            sys.exit(2)
        script = inp.read(int(parts[1]))
        if len(script) != int(parts[1]):
            return
        nft.set_json_output(parts[0] == b"J")
        rc, out, err = nft.cmd(script)
        out, err = out or b"", err or b""
        proto.write(b"%d %d %d\n" % (rc, len(out), len(err)))
        proto.write(out)
        proto.write(err)
        proto.flush()


if __name__ == "__main__":
    main()
