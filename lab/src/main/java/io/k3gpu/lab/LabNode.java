package io.k3gpu.lab;

import java.nio.file.Path;

/**
 * One node of a running lab.
 *
 * @param name        node name (jetson1, gpu1, node1, ...; see {@link LabConfig})
 * @param hostname    the node's hostname (= name)
 * @param ip          its address on the lab bridge; sshd listens on ip:22
 * @param profile     the profile key (jetson-nano, orin-nano, thor, dgpu, cpu-only)
 * @param pid         host pid of the node's PID 1 (sshd once booted); /proc/pid/root is the node's filesystem view
 * @param launcherPid host pid of the {@code unshare} process that holds the node's namespaces
 * @param netns       the node's network namespace ({@code ip netns exec <netns> ...})
 * @param veth        host side of the node's veth pair (on the lab bridge)
 * @param dir         the node's directory on the host: upper/{etc,var,opt} (overlay upper layers), root/, home/,
 *                    usr-local/ (its private /root, /home, /usr/local), console.log (init and sshd output)
 * @param alive       whether the node was running when this state was read
 */
public record LabNode(String name, String hostname, String ip, String profile, long pid, long launcherPid,
                      String netns, String veth, Path dir, boolean alive) {

    public Profile profileInfo() {
        return Profile.of(profile);
    }

    LabNode withPids(long newPid, long newLauncherPid) {
        return new LabNode(name, hostname, ip, profile, newPid, newLauncherPid, netns, veth, dir, newPid > 0);
    }

    LabNode withAlive(boolean isAlive) {
        return new LabNode(name, hostname, ip, profile, pid, launcherPid, netns, veth, dir, isAlive);
    }
}
