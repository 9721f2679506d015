package io.k3gpu.core.remote;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class ChangesInFlightTest {
    private static final String LEFT = "the new /etc/docker/daemon.json may be in place; restore it with: "
            + "sudo cp -p /etc/docker/daemon.json.k3gpu-backup-1 /etc/docker/daemon.json";

    @Test
    void undoesWhatIsStillInFlightOnceAndForgetsWhatFinished() {
        ChangesInFlight changes = new ChangesInFlight();
        AtomicInteger undone = new AtomicInteger();
        changes.begin(new ChangesInFlight.Change("10.0.0.1", "writing", LEFT, () -> {
            undone.incrementAndGet();
            return "restored";
        }));
        changes.begin(new ChangesInFlight.Change("10.0.0.2", "writing", LEFT, () -> "never")).close();

        assertThat(changes.undoAll(Duration.ofSeconds(1)))
                .containsExactly(new ChangesInFlight.Outcome("10.0.0.1", true, "restored"));
        assertThat(changes.undoAll(Duration.ofSeconds(1))).isEmpty();
        assertThat(undone).hasValue(1);
    }

    @Test
    void saysWhatWasLeftAndWhichBackupToRestoreWhenTheUndoFailsHangsOrCannotBe() {
        ChangesInFlight changes = new ChangesInFlight();
        changes.begin(new ChangesInFlight.Change("lost", "writing", LEFT, () -> {
            throw new K3gpuException(ExitCode.SSH, "the SSH connection to lost was lost", null);
        }));
        changes.begin(new ChangesInFlight.Change("stuck", "writing", LEFT, () -> {
            try {
                Thread.sleep(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "too late";
        }));
        changes.begin(new ChangesInFlight.Change("installing", "running the K3s install script", "run it again", null));

        long t0 = System.nanoTime();
        var outcomes = changes.undoAll(Duration.ofMillis(300));

        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
        assertThat(outcomes).containsExactly(
                new ChangesInFlight.Outcome("lost", false,
                        "rolling back failed (the SSH connection to lost was lost); " + LEFT),
                new ChangesInFlight.Outcome("stuck", false, "rolling back did not finish within 300ms; " + LEFT),
                new ChangesInFlight.Outcome("installing", false, "run it again"));
    }
}
