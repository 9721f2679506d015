#!/bin/sh
# arch of a k3gpu lab Jetson node (replayed hardware; see uname).
[ $# -gt 0 ] && exec /usr/bin/arch "$@"
echo '@MACHINE@'
