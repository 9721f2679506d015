package io.k3gpu.cli;

import io.k3gpu.lab.k3sdist.K3sDistribution;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The internet the nodes expect (issue 12, section 3): on a lab node get.k3s.io, update.k3s.io, github.com and
 * GitHub's asset host are the lab's mirror over HTTPS with a CA the node trusts, so `k3gpu install` needs no
 * --install-url; the host machine's own trust store and /etc/hosts stay as they were.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LabMirrorIT {
    static TestLab lab;
    static Map<String, String> hostTrustBefore;
    @TempDir
    static Path tmp;

    @BeforeAll
    static void up() throws Exception {
        hostTrustBefore = hostTrust();
        lab = TestLab.up("itmirror", 254, "cpu-only");
    }

    @AfterAll
    static void down() throws Exception {
        if (lab != null) {
            lab.close();
        }
        assertThat(hostTrust()).as("the host's trust store and /etc/hosts after lab down")
                .isEqualTo(hostTrustBefore);
    }

    /**
     * A fingerprint of what decides the host's own TLS trust and name resolution: the bundle, every entry of
     * /etc/ssl/certs (links with their targets), /usr/local/share/ca-certificates and /etc/hosts.
     */
    static Map<String, String> hostTrust() throws Exception {
        Map<String, String> m = new TreeMap<>();
        for (String dir : new String[] {"/etc/ssl/certs", "/usr/local/share/ca-certificates"}) {
            Path d = Path.of(dir);
            if (!Files.isDirectory(d)) {
                continue;
            }
            try (Stream<Path> s = Files.walk(d)) {
                for (Path p : s.toList()) {
                    m.put(p.toString(), Files.isSymbolicLink(p) ? "-> " + Files.readSymbolicLink(p)
                            : Files.isRegularFile(p) ? sha256(Files.readAllBytes(p)) : "dir");
                }
            }
        }
        m.put("/etc/hosts", sha256(Files.readAllBytes(Path.of("/etc/hosts"))));
        return m;
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private String sh(String command) throws IOException, InterruptedException {
        return lab.sh("node1", command);
    }

    @Test
    @Order(1)
    void nodeResolvesTheScriptsHostsToTheMirrorAndKeepsItsOwnHostsLines() throws Exception {
        String bridge = lab.state.bridgeIp();
        for (String name : new String[] {"get.k3s.io", "update.k3s.io", "github.com",
                "release-assets.githubusercontent.com"}) {
            assertThat(sh("getent hosts " + name)).startsWith(bridge + " ");
        }
        String hosts = sh("cat /etc/hosts");
        assertThat(hosts).contains("127.0.0.1\tlocalhost\n", lab.ip("node1") + "\tnode1\n",
                bridge + "\titmirror-host\n");
    }

    @Test
    @Order(2)
    void curlWgetAndPythonOnTheNodeTrustTheLabsCa() throws Exception {
        // no -k, no --cacert: the node's own trust store (/etc/ssl/certs/ca-certificates.crt) verifies the mirror
        assertThat(sh("curl -sfL https://get.k3s.io | head -1")).isEqualTo("#!/bin/sh\n");
        assertThat(sh("wget -qO- https://get.k3s.io | head -1")).isEqualTo("#!/bin/sh\n");
        assertThat(sh("python3 -c \"import urllib.request as u; "
                + "r = u.urlopen('https://update.k3s.io/v1-release/channels'); print(r.status, r.read().count(b'latest'))\""))
                .startsWith("200 ");
        assertThat(sh("ls /usr/local/share/ca-certificates/; readlink /etc/ssl/certs/k3gpu-lab-itmirror.pem"))
                .isEqualTo("k3gpu-lab-itmirror.crt\n/usr/local/share/ca-certificates/k3gpu-lab-itmirror.crt\n");
        assertThat(sh("openssl verify -CApath /etc/ssl/certs /usr/local/share/ca-certificates/k3gpu-lab-itmirror.crt"))
                .as("the hash link openssl looks CAs up by").endsWith(": OK\n");
        // the CA is the node's: the host's curl refuses the mirror with the host's own trust store
        Process p = new ProcessBuilder("curl", "-sS", "-o", "/dev/null", "--connect-to",
                "get.k3s.io:443:" + lab.state.bridgeIp() + ":443", "https://get.k3s.io").redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isEqualTo(60);
        assertThat(out).contains("SSL certificate problem");
    }

    @Test
    @Order(3)
    void updateK3sIoAndGithubRedirectAsTheRealOnesDo() throws Exception {
        String w = " -s -o /dev/null -w '%{http_code} %{redirect_url}'";
        assertThat(sh("curl" + w + " https://update.k3s.io/v1-release/channels/stable"))
                .isEqualTo("302 https://github.com/k3s-io/k3s/releases/tag/v1.31.4+k3s1");
        // how install.sh reads the channel's release: the last path element of where the redirects end
        assertThat(sh("curl -w '%{url_effective}' -L -s -S https://update.k3s.io/v1-release/channels/stable"
                + " -o /dev/null")).isEqualTo("https://github.com/k3s-io/k3s/releases/tag/v1.31.4+k3s1");
        assertThat(sh("curl" + w + " https://github.com/k3s-io/k3s/releases/download/v1.31.4+k3s1/k3s"))
                .startsWith("302 https://release-assets.githubusercontent.com/");
        String sums = sh("curl -sfL https://github.com/k3s-io/k3s/releases/download/v1.31.4+k3s1/sha256sum-amd64.txt");
        String got = sh("curl -sfL https://github.com/k3s-io/k3s/releases/download/v1.31.4+k3s1/k3s | sha256sum");
        assertThat(sums).contains(got.split("\\s+")[0] + "  k3s\n");
    }

    @Test
    @Order(4)
    void installWithoutAnInstallUrlGetsAReadyServerFromTheInternetNames() throws Exception {
        Path kubeconfig = tmp.resolve("kubeconfig");
        Cli.Result r = Cli.run(TestLab.args("install", lab.ssh("node1"), "--local-path", kubeconfig.toString(),
                "--timeout", "60s"));
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).contains("K3s server v1.31.4+k3s1 is Ready as node node1");
        Kubectl.Result nodes = Kubectl.run(kubeconfig, "get", "nodes", "--no-headers");
        assertThat(nodes.exit()).as(nodes.out()).isZero();
        assertThat(nodes.out()).matches("(?s)node1\\s+Ready\\s.*");
        // it came the internet's way: the script, the channel and the release files over HTTPS by name
        // (curl asks with HTTP/1.0 after a redirect from this HTTP/1.0 server: the version is left open)
        String log = Files.readString(K3sDistribution.of(lab.state).mirrorLog());
        assertThat(log).contains(" get.k3s.io \"GET / HTTP/1.",
                " update.k3s.io \"GET /v1-release/channels/stable HTTP/1.",
                " github.com \"GET /k3s-io/k3s/releases/tag/v1.31.4+k3s1 HTTP/1.",
                " github.com \"GET /k3s-io/k3s/releases/download/v1.31.4+k3s1/sha256sum-amd64.txt HTTP/1.",
                " github.com \"GET /k3s-io/k3s/releases/download/v1.31.4+k3s1/k3s HTTP/1.",
                " release-assets.githubusercontent.com \"GET /github-production-release-asset/k3s-io/k3s/"
                        + "v1.31.4+k3s1/k3s?");
    }

    @Test
    @Order(6)
    void theHostsOwnTrustStoreAndHostsFileAreUntouchedWhileTheLabIsUp() throws Exception {
        assertThat(hostTrust()).isEqualTo(hostTrustBefore);
        String ca = Files.readString(K3sDistribution.of(lab.state).caCert());
        assertThat(Files.readString(Path.of("/etc/ssl/certs/ca-certificates.crt"))).doesNotContain(ca.strip());
        assertThat(sh("cat /etc/ssl/certs/ca-certificates.crt")).as("the node's bundle").contains(ca.strip());
    }
}
