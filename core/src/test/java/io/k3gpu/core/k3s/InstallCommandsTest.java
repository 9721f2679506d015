package io.k3gpu.core.k3s;

import io.k3gpu.core.remote.ExecResult;
import io.k3gpu.core.remote.LocalSh;
import io.k3gpu.core.remote.RemoteFileCommands;
import io.k3gpu.core.remote.Upload;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

class InstallCommandsTest {
    private static final char[] TOKEN = "K10abc::server:s3cr3t".toCharArray();

    @TempDir
    Path tmp;

    private static K3sInstall agent(String url) {
        return new K3sInstall(K3sInstall.Role.AGENT, "agent --docker", "v1.31.4+k3s1", null,
                "https://192.168.0.12:6443", TOKEN, url, null);
    }

    @Test
    void secretFlagsOfTheExecAreMaskedWhenPrintedAndSentAsGiven() {
        K3sInstall server = new K3sInstall(K3sInstall.Role.SERVER,
                "server --agent-token ag3nt --datastore-endpoint postgres://k3s:dbpw@db/k3s", null, null, null, null,
                null, null);
        assertThat(InstallCommands.envFile(server, true)).isEqualTo("""
                INSTALL_K3S_EXEC='server --agent-token ******** --datastore-endpoint postgres://k3s:********@db/k3s'
                """);
        assertThat(InstallCommands.envFile(server, false)).isEqualTo("""
                INSTALL_K3S_EXEC='server --agent-token ag3nt --datastore-endpoint postgres://k3s:dbpw@db/k3s'
                """);
        assertThat(server.toString()).doesNotContain("ag3nt").doesNotContain("dbpw");
    }

    @Test
    void envFileCarriesTheTokenAndRedactsItForPrinting() {
        assertThat(InstallCommands.envFile(agent(null), false)).isEqualTo("""
                INSTALL_K3S_EXEC='agent --docker'
                INSTALL_K3S_VERSION=v1.31.4+k3s1
                K3S_URL=https://192.168.0.12:6443
                K3S_TOKEN=K10abc::server:s3cr3t
                """);
        assertThat(InstallCommands.envFile(agent(null), true)).contains("K3S_TOKEN='<redacted>'")
                .doesNotContain("s3cr3t");
    }

    @Test
    void installCommandNeverContainsTheToken() {
        String cmd = InstallCommands.install(agent(null), null);
        assertThat(cmd).doesNotContain("s3cr3t").doesNotContain("K3S_TOKEN");
        assertThat(cmd).isEqualTo("set -e; umask 077; d=$(mktemp -d); trap 'rm -rf \"$d\"' EXIT; "
                + "read -r n h || true; cat > \"$d/env\"; s=$(wc -c < \"$d/env\"); if [ \"$s\" != \"$n\" ]; "
                + "then rm -f -- \"$d/env\"; echo \"k3gpu: the K3s install environment: only $s of $n bytes arrived "
                + "(the upload was cut); nothing was changed\" >&2; exit 45; fi; c=$(sha256sum < \"$d/env\"); "
                + "if [ \"${c%% *}\" != \"$h\" ]; then rm -f -- \"$d/env\"; echo \"k3gpu: the K3s install environment: "
                + "the bytes that arrived are not those sent (SHA-256 differs); nothing was changed\" >&2; exit 45; fi; "
                + "if command -v curl >/dev/null 2>&1; then curl -sfL --retry 2 -o \"$d/install.sh\" https://get.k3s.io; "
                + "else wget -q -O \"$d/install.sh\" https://get.k3s.io; fi || { echo \"k3gpu: could not download the K3s "
                + "install script from \"https://get.k3s.io >&2; exit 90; }; [ -s \"$d/install.sh\" ] || { echo \"k3gpu: the "
                + "K3s install script from \"https://get.k3s.io is empty >&2; exit 90; }; set -a; . \"$d/env\"; set +a; "
                + "rm -f \"$d/env\"; sh \"$d/install.sh\"");
    }

    @Test
    void theScriptSeesTheEnvironmentAndNoFileIsLeftBehind() throws IOException {
        Path script = tmp.resolve("install.sh");
        Files.writeString(script, "echo \"exec=$INSTALL_K3S_EXEC url=$K3S_URL token=${#K3S_TOKEN}\"; ls \"$(dirname \"$0\")\"\n");
        byte[] env = stdin(agent("file://" + script));
        ExecResult r = LocalSh.runBytes(InstallCommands.install(agent("file://" + script), null), env);
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertThat(r.stdout()).isEqualTo("exec=agent --docker url=https://192.168.0.12:6443 token=21\ninstall.sh\n");
    }

    /** What K3sFlowSupport sends: the environment file as an upload (its header line, then the lines). */
    private static byte[] stdin(K3sInstall i) throws IOException {
        try (InputStream in = Upload.of(InstallCommands.envFile(i, false).getBytes(StandardCharsets.UTF_8)).openStdin()) {
            return in.readAllBytes();
        }
    }

    @Test
    void aCutEnvironmentStopsBeforeTheScriptRuns() throws IOException {
        // Cut inside the token: the script would otherwise run with a wrong K3S_TOKEN.
        Path script = tmp.resolve("install.sh");
        Path ran = tmp.resolve("ran");
        Files.writeString(script, "touch " + ran + "\n");
        byte[] env = stdin(agent("file://" + script));
        ExecResult r = LocalSh.runBytes(InstallCommands.install(agent("file://" + script), null),
                Arrays.copyOf(env, env.length - 5));
        assertThat(r.exitCode()).isEqualTo(RemoteFileCommands.REFUSED);
        assertThat(r.stderr()).startsWith("k3gpu: the K3s install environment: only ");
        assertThat(ran).doesNotExist();
    }

    @Test
    void aFailedDownloadFailsTheCommand() throws IOException {
        K3sInstall i = agent("file://" + tmp.resolve("missing.sh"));
        ExecResult r = LocalSh.runBytes(InstallCommands.install(i, null), stdin(i));
        assertThat(r.exitCode()).isEqualTo(InstallCommands.DOWNLOAD_FAILED);
        assertThat(r.stderr()).contains("could not download the K3s install script");
    }

    @Test
    void airGapRunsTheUploadedScriptWithoutDownloading() {
        K3sInstall i = new K3sInstall(K3sInstall.Role.SERVER, "server", null, null, null, null, null, tmp);
        assertThat(InstallCommands.envFile(i, false)).isEqualTo("INSTALL_K3S_EXEC=server\nINSTALL_K3S_SKIP_DOWNLOAD=true\n");
        assertThat(InstallCommands.install(i, "/var/lib/rancher/k3s/k3gpu-install.sh"))
                .contains("cp -- /var/lib/rancher/k3s/k3gpu-install.sh \"$d/install.sh\"").doesNotContain("curl");
    }

    @Test
    void restartUsesSystemdWhenThereElseTheInitSystemsServiceCommand() {
        assertThat(InstallCommands.restartService("k3s-agent")).isEqualTo(
                "if command -v systemctl >/dev/null 2>&1; then systemctl restart k3s-agent; else service k3s-agent restart; fi");
    }

    @Test
    void uninstallAndLeftoverCommandsAreGolden() {
        assertThat(InstallCommands.uninstall(K3sInstall.Role.AGENT)).isEqualTo(
                "if [ -x /usr/local/bin/k3s-agent-uninstall.sh ]; then /usr/local/bin/k3s-agent-uninstall.sh; else echo absent; fi");
        assertThat(LocalSh.run(InstallCommands.leftovers(), null).stdout()).isEmpty();
    }

    @Test
    void theKubeconfigIsReadOnlyUpToOneByteOverTheLimit() {
        assertThat(InstallCommands.readKubeconfig(65536)).isEqualTo("if [ -f /etc/rancher/k3s/k3s.yaml ]; then "
                + "head -c 65537 /etc/rancher/k3s/k3s.yaml; else exit 44; fi");
    }

    @Test
    void printingTheInstallNeverShowsTheToken() {
        assertThat(agent(null).toString()).doesNotContain("s3cr3t");
    }
}
