package io.k3gpu.core.k3s;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class K3sArgsTest {

    /** A k3s.service as K3s's install script writes it (ExecStart= one quoted argument a line), with a quote inside. */
    private static String unit() throws IOException {
        try (InputStream in = K3sArgsTest.class.getResourceAsStream("k3s.service")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void theUnitsExecStartGivesTheCommandLineAfterTheProgramWithSheQuotesUndone() throws IOException {
        assertThat(K3sArgs.execStart(unit())).containsExactly("server", "--cluster-init", "--tls-san", "10.0.0.1",
                "--disable=traefik", "--node-label", "room=it's");
    }

    @Test
    void aUnitWithoutExecStartOrNoUnitAtAllHasNoCommandLine() {
        assertThat(K3sArgs.execStart("")).isEmpty();
        assertThat(K3sArgs.execStart("[Service]\nExecStartPre=-/sbin/modprobe overlay\n")).isEmpty();
        assertThat(K3sArgs.execStart("ExecStart=/usr/local/bin/k3s \\\n    agent \\\n\n")).containsExactly("agent");
    }

    @Test
    void installK3sExecIsSplitAsTheInstallScriptSplitsItQuotesGroupingBackslashesLiteral() {
        assertThat(K3sArgs.splitExec("server  --node-label 'a=b c' --kubelet-arg \"x=1\" --data-dir /d\\x"))
                .containsExactly("server", "--node-label", "a=b c", "--kubelet-arg", "x=1", "--data-dir", "/d\\x");
        assertThatThrownBy(() -> K3sArgs.splitExec("--node-label 'a=b")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void flagsAreASetOrderEqualsSignsDashesAndTrueDoNotMatter() {
        List<String> a = List.of("server", "--tls-san", "10.0.0.1", "--disable", "traefik", "--cluster-init");
        List<String> b = List.of("server", "-cluster-init=true", "--disable=traefik", "--tls-san=10.0.0.1");
        assertThat(K3sArgs.flags(a)).isEqualTo(K3sArgs.flags(b));
        assertThat(K3sArgs.diff(a, b)).isEmpty();
        assertThat(K3sArgs.flags(List.of("agent", "-t", "x", "--docker"))).containsExactly(
                new K3sArgs.Flag("-t", "x"), new K3sArgs.Flag("--docker", null));
    }

    @Test
    void theDiffListsAdditionsInTheWantedOrderThenRemovalsOneFlagAndValueEach() {
        List<String> installed = K3sArgs.splitExec("server --tls-san 10.0.0.1 --disable servicelb --disable traefik");
        List<String> wanted = K3sArgs.splitExec(
                "server --cluster-init --tls-san 10.0.0.1 --disable traefik --node-label 'room=lab 2'");
        assertThat(K3sArgs.diff(installed, wanted)).containsExactly("--cluster-init added",
                "--node-label 'room=lab 2' added", "--disable servicelb removed");
    }

    @Test
    void secretValuesAreShownAsK3sShowsThem() {
        assertThat(K3sArgs.diff(List.of("server"), List.of("server", "--token", "K10abc::server:s3cr3t",
                "--datastore-endpoint=postgres://u:pw@db/k3s", "-t", "x")))
                .containsExactly("--token ******** added", "--datastore-endpoint postgres://u:********@db/k3s added",
                        "-t ******** added");
    }

    @Test
    void everySecretFlagOfK3sIsMaskedInAnInstallExecAndTheRestIsShownAsWritten() {
        assertThat(K3sArgs.masked("server --token K10abc::server:s3cr3t --agent-token=ag3nt -t x --cluster-init "
                + "--etcd-s3-access-key AKIA1 --etcd-s3-secret-key=sk --etcd-s3-session-token st --vpn-auth "
                + "name=tailscale,joinKey=k1 --vpn-auth-file /etc/vpn --token-file /etc/k3s-token "
                + "--node-label 'room=lab 2' -cluster-secret=old"))
                .isEqualTo("server --token ******** --agent-token=******** -t ******** --cluster-init "
                        + "--etcd-s3-access-key ******** --etcd-s3-secret-key=******** --etcd-s3-session-token ******** "
                        + "--vpn-auth ******** --vpn-auth-file /etc/vpn --token-file /etc/k3s-token "
                        + "--node-label 'room=lab 2' -cluster-secret=********");
    }

    @Test
    void onlyThePasswordOfADatastoreUrlOrDsnIsMasked() {
        assertThat(K3sArgs.masked("server --datastore-endpoint postgres://k3s:p@ss@db.lan:5432/k3s?sslmode=require"))
                .isEqualTo("server --datastore-endpoint postgres://k3s:********@db.lan:5432/k3s?sslmode=require");
        assertThat(K3sArgs.masked("server --datastore-endpoint=mysql://k3s:pw/x@tcp(db:3306)/k3s"))
                .isEqualTo("server --datastore-endpoint=mysql://k3s:********@tcp(db:3306)/k3s");
        assertThat(K3sArgs.masked("server --datastore-endpoint https://e1:2379,https://e2:2379 --etcd-s3-proxy "
                + "http://u:pw@proxy:3128"))
                .isEqualTo("server --datastore-endpoint https://e1:2379,https://e2:2379 --etcd-s3-proxy "
                        + "http://u:********@proxy:3128");
        assertThat(K3sArgs.masked("server --datastore-endpoint postgres://k3s@db/k3s"))
                .isEqualTo("server --datastore-endpoint postgres://k3s@db/k3s");
    }

    @Test
    void anInstallExecThatCannotBeSplitIsNotShownAtAll() {
        assertThat(K3sArgs.masked("server --token 'abc")).isEqualTo("********");
    }

    @Test
    void hasFindsAFlagWhateverItsValue() {
        assertThat(K3sArgs.has(List.of("server", "--cluster-init=true"), "--cluster-init")).isTrue();
        assertThat(K3sArgs.has(List.of("server", "--tls-san", "--cluster-init"), "--cluster-init")).isTrue();
        assertThat(K3sArgs.has(List.of("server", "--tls-san", "x"), "--cluster-init")).isFalse();
    }
}
