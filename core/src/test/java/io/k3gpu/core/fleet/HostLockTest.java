package io.k3gpu.core.fleet;

import io.k3gpu.core.error.K3gpuException;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class HostLockTest {
    @Test
    void theLockIsTakenAtomicallyByAHardLinkAndSaysWhoHoldsIt() {
        assertThat(HostLock.acquireCommand()).isEqualTo("mkdir -p /var/lib/k3gpu && t=$(mktemp "
                + "/var/lib/k3gpu/apply.lock.XXXXXX) && cat > \"$t\" && chmod 0644 \"$t\" && if ln \"$t\" "
                + "/var/lib/k3gpu/apply.lock 2>/dev/null; then rm -f \"$t\"; echo k3gpu-lock-taken; else rm -f \"$t\"; "
                + "echo k3gpu-lock-held; head -c 1024 /var/lib/k3gpu/apply.lock; fi");
        String content = new HostLock("ann@desk", 42).content(Instant.parse("2026-12-05T15:00:00Z"));
        assertThat(content).startsWith("who=ann@desk\nwhen=2026-12-05T15:00:00Z\npid=42\nrun=");
        assertThat(HostLock.parse(content)).containsEntry("who", "ann@desk").containsEntry("pid", "42");
    }

    @Test
    void aLockAnEarlierRunOfThisSameProcessLeftIsTakenOverAndNoOtherIs() {
        HostLock me = new HostLock("ann@desk", 42);
        assertThat(me.leftByThisProcess(Map.of("who", "ann@desk", "pid", "42", "run", "earlier"))).isTrue();
        assertThat(me.leftByThisProcess(Map.of("who", "ann@desk", "pid", "43", "run", "earlier"))).isFalse();
        assertThat(me.leftByThisProcess(Map.of("who", "bob@desk", "pid", "42", "run", "earlier"))).isFalse();
        assertThat(me.leftByThisProcess(Map.of("who", "ann@desk", "pid", "42"))).isFalse();
        assertThat(HostLock.takeOverCommand()).isEqualTo("t=$(mktemp /var/lib/k3gpu/apply.lock.XXXXXX) && cat > \"$t\" "
                + "&& chmod 0644 \"$t\" && mv -f \"$t\" /var/lib/k3gpu/apply.lock && echo k3gpu-lock-taken");
    }

    @Test
    void aLockOfAGoneProcessOnThisMachineIsReportedStaleWithHowToClearIt() {
        HostLock me = new HostLock("ann@desk", ProcessHandle.current().pid());
        K3gpuException stale = me.held("gpu1", "10.0.0.5",
                Map.of("who", "ann@desk", "pid", "999999999", "when", "2026-12-05T15:00:00Z"));
        assertThat(stale.getMessage()).isEqualTo("gpu1 is locked by a stale apply: /var/lib/k3gpu/apply.lock says "
                + "ann@desk pid 999999999 since 2026-12-05T15:00:00Z, and that process is gone");
        assertThat(stale.hint()).isEqualTo("remove the stale lock (ssh 10.0.0.5 sudo rm /var/lib/k3gpu/apply.lock), "
                + "then run apply again");
        K3gpuException other = me.held("gpu1", "10.0.0.5", Map.of("who", "bob@laptop", "pid", "7",
                "when", "2026-12-05T15:00:00Z"));
        assertThat(other.getMessage()).isEqualTo("gpu1 is locked by another apply: bob@laptop pid 7 since "
                + "2026-12-05T15:00:00Z (/var/lib/k3gpu/apply.lock)");
        assertThat(HostLock.parse("who=x\u001b[31m\n")).containsEntry("who", "x?[31m");
    }
}
