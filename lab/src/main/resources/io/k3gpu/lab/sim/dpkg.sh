#!/bin/sh
# dpkg of a k3gpu lab Jetson node: `dpkg --print-architecture` answers the board's @DPKG_ARCH@ (replayed
# hardware); everything else is the real /usr/bin/dpkg.
if [ "$#" -eq 1 ] && [ "$1" = "--print-architecture" ]; then echo '@DPKG_ARCH@'; exit 0; fi
exec /usr/bin/dpkg "$@"
