#!/bin/sh
# uname of a k3gpu lab Jetson node: part of the replayed hardware. The node runs on the x86_64 lab host, so this
# reports the board's kernel instead: machine/processor/hardware platform @MACHINE@, kernel release @RELEASE@,
# kernel version "@VERSION@". Node name, kernel name and --help/--version come from /bin/uname.
s=0 n=0 r=0 v=0 m=0 p=0 i=0 o=0 any=0
for a in "$@"; do
    case "$a" in
        --all) s=1 n=1 r=1 v=1 m=1 p=1 i=1 o=1 ;;
        --kernel-name) s=1 ;;
        --nodename) n=1 ;;
        --kernel-release) r=1 ;;
        --kernel-version) v=1 ;;
        --machine) m=1 ;;
        --processor) p=1 ;;
        --hardware-platform) i=1 ;;
        --operating-system) o=1 ;;
        --*) exec /bin/uname "$@" ;;
        -*)
            flags=${a#-}
            while [ -n "$flags" ]; do
                c=${flags%"${flags#?}"}
                flags=${flags#?}
                case "$c" in
                    a) s=1 n=1 r=1 v=1 m=1 p=1 i=1 o=1 ;;
                    s) s=1 ;; n) n=1 ;; r) r=1 ;; v) v=1 ;; m) m=1 ;; p) p=1 ;; i) i=1 ;; o) o=1 ;;
                    *) exec /bin/uname "$@" ;;
                esac
            done ;;
        *) exec /bin/uname "$@" ;;
    esac
done
[ $s$n$r$v$m$p$i$o = 00000000 ] && s=1
out=
add() { out="${out:+$out }$1"; }
[ $s = 1 ] && add Linux
[ $n = 1 ] && add "$(cat /proc/sys/kernel/hostname)"
[ $r = 1 ] && add '@RELEASE@'
[ $v = 1 ] && add '@VERSION@'
[ $m = 1 ] && add '@MACHINE@'
[ $p = 1 ] && add '@MACHINE@'
[ $i = 1 ] && add '@MACHINE@'
[ $o = 1 ] && add GNU/Linux
printf '%s\n' "$out"
