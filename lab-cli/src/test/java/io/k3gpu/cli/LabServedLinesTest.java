package io.k3gpu.cli;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** What `lab up` / `lab status` print about what the lab serves. */
class LabServedLinesTest {
    static Map<String, Object> served(boolean running) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mirror", "http://10.213.254.1:8090");
        m.put("mirrorRunning", running);
        m.put("httpsNames", List.of("get.k3s.io", "update.k3s.io", "github.com", "release-assets.githubusercontent.com"));
        m.put("httpsAddress", "10.213.254.1:443");
        m.put("installUrl", "https://get.k3s.io");
        m.put("channelUrl", "https://update.k3s.io/v1-release/channels");
        m.put("githubUrl", "https://github.com/k3s-io/k3s/releases");
        m.put("mirrorInstallUrl", "http://10.213.254.1:8090/install.sh");
        m.put("mirrorGithubUrl", "http://10.213.254.1:8090/k3s-io/k3s/releases");
        m.put("mirrorChannelUrl", "http://10.213.254.1:8090/v1-release/channels");
        m.put("gitRepository", "http://10.213.254.1:8090/git/example-mnist-training.git");
        m.put("caCert", "/run/k3gpu-lab/x/mirror-tls/ca.crt");
        m.put("nodeCaCert", "/usr/local/share/ca-certificates/k3gpu-lab-x.crt");
        m.put("airgapBundle", "/run/k3gpu-lab/x/airgap");
        m.put("registry", null);
        return m;
    }

    @Test
    void linesNameTheHttpsHostsTheMirrorTheGitRepositoryAndNoRegistry() {
        assertThat(String.join("\n", LabCommand.servedLines(served(true)))).isEqualTo("""
                the lab serves its nodes:
                  https://get.k3s.io, https://update.k3s.io, https://github.com, https://release-assets.githubusercontent.com -> 10.213.254.1:443 (nodes resolve these names there and trust the lab's CA /run/k3gpu-lab/x/mirror-tls/ca.crt, on nodes /usr/local/share/ca-certificates/k3gpu-lab-x.crt)
                  K3s: k3gpu install --ip NODE needs no --install-url (https://get.k3s.io; channels https://update.k3s.io/v1-release/channels; releases https://github.com/k3s-io/k3s/releases)
                  install mirror: http://10.213.254.1:8090 (plain HTTP: http://10.213.254.1:8090/install.sh, GITHUB_URL http://10.213.254.1:8090/k3s-io/k3s/releases, INSTALL_K3S_CHANNEL_URL http://10.213.254.1:8090/v1-release/channels)
                  git repository: http://10.213.254.1:8090/git/example-mnist-training.git
                  air-gap bundle: /run/k3gpu-lab/x/airgap
                  registry: none (pod images come from the lab's image catalog)""");
    }

    @Test
    void aStoppedMirrorIsSaid() {
        assertThat(LabCommand.servedLines(served(false)).get(0))
                .isEqualTo("the lab serves its nodes (its mirror is NOT running: `k3gpu lab down`, then up again):");
    }
}
