package io.k3gpu.core.fleet;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.kube.Taint;
import io.k3gpu.core.ssh.HostKeyChecking;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ClusterFileTest {
    private static final Path DIR = Path.of("/srv/fleet");
    static final Path EXAMPLE = Path.of("..", "examples", "cluster.yaml");

    private static ClusterSpec parse(String yaml) {
        return ClusterFile.parse("cluster.yaml", DIR, yaml);
    }

    private static String problems(String yaml) {
        ClusterFileException e = catchThrowableOfType(() -> parse(yaml), ClusterFileException.class);
        assertThat(e).as("expected the file to be refused").isNotNull();
        assertThat(e.exitCode()).isEqualTo(ExitCode.USAGE);
        return e.lines();
    }

    @Test
    void theShippedExampleLoadsWithEveryFieldWhereItsCommentsSay() {
        ClusterSpec s = ClusterFile.load(EXAMPLE, Map.of("NANO1_SUDO_PASSWORD", "jetson")::get);
        Path dir = EXAMPLE.toAbsolutePath().getParent();
        ClusterSettings c = s.cluster();
        assertThat(c.k3sVersion()).isEqualTo("v1.31.4+k3s1");
        assertThat(c.token().fromServer()).isTrue();
        assertThat(c.serverArgs()).isEqualTo("--disable traefik");
        assertThat(c.tlsSan()).containsExactly("k3s.shelf.lan");
        assertThat(c.installUrl()).isEqualTo("https://get.k3s.io");
        assertThat(c.readyTimeout()).isEqualTo(Duration.ofMinutes(3));
        assertThat(c.kubeconfig()).isEqualTo(new ClusterSettings.KubeconfigSettings(dir.resolve("kubeconfig").normalize(),
                "shelf", false));
        assertThat(c.devicePlugin()).isEqualTo(new io.k3gpu.core.plugin.DevicePluginSettings(
                "nvcr.io/nvidia/k8s-device-plugin:v0.17.4", 4));
        assertThat(s.hosts()).extracting(HostSpec::name).containsExactly("cp1", "nano1", "orin1", "h200");
        assertThat(s.hosts()).extracting(HostSpec::gpu)
                .containsExactly(GpuMode.NONE, GpuMode.DOCKER, GpuMode.K3S, GpuMode.AUTO);
        assertThat(s.firstServer().address()).isEqualTo("192.168.0.12");
        assertThat(s.highAvailability()).isFalse();
        assertThat(s.serverUrl()).isEqualTo("https://192.168.0.12:6443");
        HostSpec nano = s.host("nano1");
        assertThat(nano.ssh().user()).isEqualTo("nvidia");
        assertThat(nano.ssh().port()).isEqualTo(22);
        assertThat(nano.ssh().strictHostKeyChecking()).isEqualTo(HostKeyChecking.ACCEPT_NEW);
        assertThat(nano.ssh().key()).isEqualTo(Path.of(System.getProperty("user.home"), ".ssh", "id_ed25519"));
        assertThat(nano.ssh().sudoPassword()).isEqualTo(new SecretRef("NANO1_SUDO_PASSWORD", null));
        assertThat(s.host("cp1").ssh().sudoPassword()).isNull();
        assertThat(s.host("cp1").ssh().user()).isEqualTo("root");
        HostSpec orin = s.host("192.168.0.41");
        assertThat(orin.labels()).containsExactly(Map.entry("shelf", "a"));
        assertThat(orin.taints()).containsExactly(new Taint("dedicated", "training", "NoSchedule"));
    }

    @Test
    void theReadmesFleetExampleIsTheShippedExampleAndLoads() throws Exception {
        String readme = java.nio.file.Files.readString(Path.of("..", "README.md"));
        int section = readme.indexOf("### Fleet");
        int start = readme.indexOf("```yaml\n", section) + "```yaml\n".length();
        String yaml = readme.substring(start, readme.indexOf("```", start));
        assertThat(java.nio.file.Files.readString(EXAMPLE)).endsWith(yaml);
        assertThat(ClusterFile.parse("README.md", DIR, yaml, Map.of("NANO1_SUDO_PASSWORD", "jetson")::get).hosts())
                .hasSize(4);
    }

    @Test
    void aMinimalFileGetsK3gpusDefaults() {
        ClusterSpec s = parse("""
                hosts:
                  - {address: 10.0.0.1, role: server}
                  - {address: 10.0.0.2, role: agent}
                """);
        assertThat(s.cluster().token()).isEqualTo(TokenSource.FROM_SERVER);
        assertThat(s.cluster().readyTimeout()).isEqualTo(Duration.ofMinutes(3));
        assertThat(s.cluster().kubeconfig()).isEqualTo(
                new ClusterSettings.KubeconfigSettings(DIR.resolve("kubeconfig"), "default", false));
        assertThat(s.cluster().devicePlugin()).isNull();
        HostSpec agent = s.agents().get(0);
        assertThat(agent.name()).isEqualTo("10.0.0.2");
        assertThat(agent.gpu()).isEqualTo(GpuMode.AUTO);
        assertThat(agent.ssh()).isEqualTo(SshSettings.NONE);
        var target = agent.ssh().target(agent.address(), null);
        assertThat(target.hostKeyChecking()).isEqualTo(HostKeyChecking.ACCEPT_NEW);
        assertThat(target.connectTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(target.port()).isNull();
        assertThat(target.user()).isNull();
    }

    @Test
    void threeServersMeanHaWithTheFirstStartingTheCluster() {
        ClusterSpec s = parse("""
                hosts:
                  - {name: a1, address: 10.0.0.5, role: agent}
                  - {name: s1, address: 10.0.0.1, role: server}
                  - {name: s2, address: 10.0.0.2, role: server}
                  - {name: s3, address: 10.0.0.3, role: server}
                """);
        assertThat(s.highAvailability()).isTrue();
        assertThat(s.firstServer().name()).isEqualTo("s1");
        assertThat(s.extraServers()).extracting(HostSpec::name).containsExactly("s2", "s3");
        assertThat(s.agents()).extracting(HostSpec::name).containsExactly("a1");
    }

    @Test
    void hostSshOverridesTheDefaultsKeyByKeyAndPathsAreRelativeToTheFile() {
        ClusterSpec s = parse("""
                cluster:
                  token: {file: secrets/token}
                  airgapBundle: bundle
                ssh:
                  user: admin
                  key: keys/fleet
                  port: 2222
                  strictHostKeyChecking: yes
                  proxyJump: jump@bastion:22
                  connectTimeout: 3s
                hosts:
                  - address: 10.0.0.1
                    role: server
                    ssh: {user: root, strictHostKeyChecking: no, connectTimeout: 500ms}
                """);
        SshSettings ssh = s.firstServer().ssh();
        assertThat(ssh).isEqualTo(new SshSettings("root", DIR.resolve("keys/fleet"), 2222, null, HostKeyChecking.NO,
                "jump@bastion:22", Duration.ofMillis(500), null, null));
        assertThat(s.ssh().strictHostKeyChecking()).isEqualTo(HostKeyChecking.YES);
        assertThat(s.cluster().token().file()).isEqualTo(DIR.resolve("secrets/token"));
        assertThat(s.cluster().airgapBundle()).isEqualTo(DIR.resolve("bundle"));
    }

    @Test
    void everyProblemIsReportedWithFileLineAndColumnInFileOrder() {
        String yaml = """
                cluster:
                  k3sVersion: 1.31
                  k3sChanel: stable
                  readyTimeout: 3 minutes
                  token: K10abcdef::server:secret
                ssh:
                  port: 70000
                  strictHostKeyChecking: maybe
                  connectTimeout: 10x
                  known_hosts: /tmp/kh
                hosts:
                  - name: cp1
                    address: 10.0.0.1
                    role: master
                  - name: nano
                    address: 10.0.0.2
                    role: agent
                    gpuu: docker
                  - name: nano
                    address: 10.0.0.2
                    role: agent
                    gpu: cuda
                    labels: {"nvidia.com/gpu.product": x, "bad key": y}
                    taints: [dedicated=gpu:Sometimes]
                  - address: 10.0.0.4
                    role: agent
                    role: server
                """;
        assertThat(problems(yaml)).isEqualTo("""
                cluster.yaml:2:15: bad k3sVersion '1.31': write a K3s release like v1.31.4+k3s1
                cluster.yaml:3:3: unknown key 'k3sChanel' (did you mean 'k3sChannel'?)
                cluster.yaml:4:17: bad duration '3 minutes' for readyTimeout: write it like 500ms, 10s, 2m or 1h30m
                cluster.yaml:5:10: cluster.token must not hold the token itself: use token: {file: PATH} or token: {env: NAME} (or leave it out: the token is read from the first server)
                cluster.yaml:7:9: bad port '70000': it must be a number from 1 to 65535
                cluster.yaml:8:26: bad strictHostKeyChecking 'maybe': use yes, accept-new or no
                cluster.yaml:9:19: bad duration '10x' for connectTimeout: write it like 500ms, 10s, 2m or 1h30m
                cluster.yaml:10:3: unknown key 'known_hosts' (did you mean 'knownHosts'?)
                cluster.yaml:14:11: bad role 'master': use server or agent
                cluster.yaml:18:5: unknown key 'gpuu' (did you mean 'gpu'?)
                cluster.yaml:19:11: duplicate name 'nano' (also the host at line 15)
                cluster.yaml:20:14: duplicate address '10.0.0.2' (also the host at line 16)
                cluster.yaml:22:10: bad gpu 'cuda': use auto, docker, k3s or none
                cluster.yaml:23:14: label 'nvidia.com/gpu.product' is k3gpu's own: it is set from the node's facts
                cluster.yaml:23:43: bad label key 'bad key': [prefix/]name, the name at most 63 of letters, digits, '-', '_', '.', starting and ending alphanumeric
                cluster.yaml:24:14: bad taint 'dedicated=gpu:Sometimes': write key=value:Effect or key:Effect, the effect one of NoSchedule, PreferNoSchedule, NoExecute
                cluster.yaml:27:5: duplicate key 'role' (first at line 26)
                """);
    }

    @Test
    void aFileWithoutAServerIsRefusedAtItsHostsKey() {
        assertThat(problems("""
                cluster: {}
                hosts:
                  - {address: 10.0.0.1, role: agent}
                  - {address: 10.0.0.2, role: agent}
                """)).isEqualTo("cluster.yaml:2:1: no server: at least one host needs role: server (the first one starts the cluster)\n");
    }

    @Test
    void missingAddressAndRoleArePointedAtTheirHost() {
        assertThat(problems("""
                hosts:
                  - name: cp1
                    role: server
                  - name: a
                    address: 10.0.0.9
                """)).isEqualTo("""
                cluster.yaml:2:5: missing key 'address' (the host's IP address or DNS name)
                cluster.yaml:4:5: missing key 'role' (server or agent)
                """);
    }

    @Test
    void exclusiveKeysAndTokenSourcesAreCaught() {
        assertThat(problems("""
                cluster:
                  k3sVersion: v1.31.4+k3s1
                  k3sChannel: stable
                  installUrl: http://mirror/install.sh
                  airgapBundle: ./bundle
                  token: {file: ./t, env: K3S_TOKEN}
                hosts:
                  - {address: 10.0.0.1, role: server}
                """)).isEqualTo("""
                cluster.yaml:3:15: k3sVersion and k3sChannel exclude each other: give one
                cluster.yaml:5:17: installUrl and airgapBundle exclude each other: give one
                cluster.yaml:6:10: cluster.token takes one of fromServer, file or env, not file and env
                """);
    }

    @Test
    void aKeyInTheWrongSectionSaysWhereItBelongs() {
        assertThat(problems("""
                cluster:
                  role: server
                hosts:
                  - {address: 10.0.0.1, role: server, k3sVersion: v1.31.4+k3s1}
                """)).isEqualTo("""
                cluster.yaml:2:3: unknown key 'role' in cluster ('role' belongs in a host)
                cluster.yaml:4:39: unknown key 'k3sVersion' in a host ('k3sVersion' belongs in cluster)
                """);
    }

    @Test
    void typesAreCheckedAndNamed() {
        assertThat(problems("""
                ssh: [root]
                hosts:
                  address: 10.0.0.1
                """)).isEqualTo("""
                cluster.yaml:1:6: expected a mapping for ssh, got a list
                cluster.yaml:3:3: expected a list of hosts for 'hosts', got a mapping
                """);
    }

    @Test
    void theDevicePluginSectionDefaultsToNvidiasPinnedReleaseAndCanBeTurnedOff() {
        String hosts = "hosts:\n  - {address: 10.0.0.1, role: server}\n";
        assertThat(parse("cluster:\n  devicePlugin: {}\n" + hosts).cluster().devicePlugin())
                .isEqualTo(new io.k3gpu.core.plugin.DevicePluginSettings("nvcr.io/nvidia/k8s-device-plugin:v0.17.4", 0));
        assertThat(parse("cluster:\n  devicePlugin: {version: 0.17.3}\n" + hosts).cluster().devicePlugin().image())
                .isEqualTo("nvcr.io/nvidia/k8s-device-plugin:v0.17.3");
        assertThat(parse("cluster:\n  devicePlugin: {enabled: false, timeSlicing: 4}\n" + hosts).cluster()
                .devicePlugin()).isNull();
    }

    @Test
    void devicePluginProblemsHaveTheirLineAndColumn() {
        assertThat(problems("""
                cluster:
                  devicePlugin:
                    enabled: maybe
                    version: "v0.17.4 latest"
                    timeSlicing: 1
                    replicas: 4
                hosts:
                  - {address: 10.0.0.1, role: server}
                """)).isEqualTo("""
                cluster.yaml:3:14: expected true or false for 'enabled', got 'maybe'
                cluster.yaml:4:14: bad devicePlugin version 'v0.17.4 latest': write a release of NVIDIA's k8s-device-plugin like v0.17.4
                cluster.yaml:5:18: bad timeSlicing '1': it is how many pods share each GPU, a number from 2 up (leave it out for a whole GPU per pod)
                cluster.yaml:6:5: unknown key 'replicas' in cluster.devicePlugin (known: enabled, version, timeSlicing)
                """);
    }

    @Test
    void theUpgradeSectionHasK0sctlsDefaultsAndItsProblemsTheirPosition() {
        ClusterSpec plain = parse("""
                hosts: [{address: 10.0.0.1, role: server}]
                """);
        assertThat(plain.cluster().upgrade()).isEqualTo(new UpgradeSettings(10, java.time.Duration.ofMinutes(5)));
        ClusterSpec set = parse("""
                cluster: {upgrade: {workerDisruptionPercent: 50, drainTimeout: 30s}}
                hosts: [{address: 10.0.0.1, role: server}]
                """);
        assertThat(set.cluster().upgrade()).isEqualTo(new UpgradeSettings(50, java.time.Duration.ofSeconds(30)));
        assertThat(problems("""
                cluster:
                  upgrade:
                    workerDisruptionPercent: 0
                    drainTimeout: soon
                    maxSurge: 1
                hosts:
                  - {address: 10.0.0.1, role: server}
                """)).isEqualTo("""
                cluster.yaml:3:30: bad workerDisruptionPercent '0': it is the share of the agents upgraded at once, a number from 1 to 100 (default 10; at least one agent at a time)
                cluster.yaml:4:19: bad duration 'soon' for drainTimeout: write it like 500ms, 10s, 2m or 1h30m
                cluster.yaml:5:5: unknown key 'maxSurge' in cluster.upgrade (known: workerDisruptionPercent, drainTimeout)
                """);
    }

    @Test
    void yamlSyntaxErrorsHaveThePositionOfTheProblem() {
        assertThat(problems("""
                hosts:
                  - address: 10.0.0.1
                    role: server
                   bad: [
                """)).startsWith("cluster.yaml:4:");
    }

    @Test
    void anEmptyFileIsRefused() {
        assertThat(problems("# nothing\n")).isEqualTo(
                "cluster.yaml:1:1: the file is empty: it needs at least hosts: with one server\n");
    }

    @Test
    void hostsAreFoundByNameOrAddressAndAnUnknownOneIsAUsageError() {
        ClusterSpec s = parse("""
                hosts:
                  - {name: cp1, address: 10.0.0.1, role: server}
                """);
        assertThat(s.host("10.0.0.1").name()).isEqualTo("cp1");
        assertThatThrownBy(() -> s.host("nope")).hasMessage("cluster.yaml has no host 'nope'");
    }

    @Test
    void anUnreadableFileIsAUsageError() {
        assertThatThrownBy(() -> ClusterFile.load(Path.of("/nonexistent/cluster.yaml")))
                .hasMessageStartingWith("cannot read the cluster file /nonexistent/cluster.yaml");
    }

    @TempDir
    Path tmp;

    private static String problemsIn(String yaml, Map<String, String> env) {
        ClusterFileException e = catchThrowableOfType(() -> ClusterFile.parse("cluster.yaml", DIR, yaml, env::get),
                ClusterFileException.class);
        assertThat(e).as("expected the file to be refused").isNotNull();
        return e.lines();
    }

    @Test
    void aSudoPasswordComesFromAVariableOrAFileByDefaultOrPerHostAndIsReadOnlyWhenAsked() throws Exception {
        Path file = Files.writeString(tmp.resolve("nano.pw"), "s3cr3t nano\nsecond line\n");
        ClusterSpec s = ClusterFile.parse("cluster.yaml", tmp, """
                ssh: {user: alice, sudoPassword: {env: FLEET_SUDO_PASSWORD}}
                hosts:
                  - {name: cp1, address: 10.0.0.1, role: server}
                  - {name: nano, address: 10.0.0.2, role: agent, ssh: {sudoPassword: {file: nano.pw}}}
                  - {name: h200, address: 10.0.0.3, role: agent, ssh: {user: root}}
                """, Map.of("FLEET_SUDO_PASSWORD", "pw1")::get);
        assertThat(s.host("cp1").ssh().sudoPassword()).isEqualTo(new SecretRef("FLEET_SUDO_PASSWORD", null));
        assertThat(s.host("nano").ssh().sudoPassword()).isEqualTo(new SecretRef(null, file));
        assertThat(s.host("h200").ssh().sudoPassword()).hasToString("env FLEET_SUDO_PASSWORD");
        assertThat(s.host("nano").ssh().sudoPassword().read("nano: ssh.sudoPassword", n -> null))
                .containsExactly("s3cr3t nano".toCharArray());
        assertThat(s.host("cp1").ssh().sudoPassword().read("cp1: ssh.sudoPassword", Map.of("FLEET_SUDO_PASSWORD", "pw1")::get))
                .containsExactly('p', 'w', '1');
        assertThat(s.host("nano").ssh().toString()).doesNotContain("s3cr3t");
    }

    @Test
    void aSudoPasswordThatCannotBeHadIsAProblemAtItsPositionAndTheFileNeverEchoesOne() throws Exception {
        Files.writeString(tmp.resolve("empty.pw"), "\n");
        String yaml = """
                ssh:
                  sudoPassword: hunter2
                hosts:
                  - {name: cp1, address: 10.0.0.1, role: server, ssh: {sudoPassword: {env: NOT_SET_SUDO_PASSWORD}}}
                  - {name: a1, address: 10.0.0.2, role: agent, ssh: {sudoPassword: {env: EMPTY_SUDO_PASSWORD}}}
                  - {name: a2, address: 10.0.0.3, role: agent, ssh: {sudoPassword: {file: %s}}}
                  - {name: a3, address: 10.0.0.4, role: agent, ssh: {sudoPassword: {file: %s}}}
                  - {name: a4, address: 10.0.0.5, role: agent, ssh: {sudoPassword: {env: A, file: b}}}
                  - {name: a5, address: 10.0.0.6, role: agent, ssh: {sudoPassword: {env: 2bad, pasword: x}}}
                """.formatted(tmp.resolve("missing.pw"), tmp.resolve("empty.pw"));
        String lines = problemsIn(yaml, Map.of("EMPTY_SUDO_PASSWORD", "", "K3GPU_SECRET_DIRS", tmp.toString()));
        assertThat(lines).isEqualTo("""
                cluster.yaml:2:17: sudoPassword must not hold the password itself: use sudoPassword: {env: NAME} or sudoPassword: {file: PATH}
                cluster.yaml:4:76: sudoPassword: the environment variable NOT_SET_SUDO_PASSWORD is not set
                cluster.yaml:5:74: sudoPassword: the environment variable EMPTY_SUDO_PASSWORD is empty
                cluster.yaml:6:75: sudoPassword: no file %s
                cluster.yaml:7:75: sudoPassword: %s is empty
                cluster.yaml:8:68: sudoPassword takes one of env or file, not env and file
                cluster.yaml:9:74: bad environment variable name '2bad'
                cluster.yaml:9:80: unknown key 'pasword' in ssh.sudoPassword (known: env, file)
                """.formatted(tmp.resolve("missing.pw"), tmp.resolve("empty.pw")));
        assertThat(lines).doesNotContain("hunter2");
    }

    @Test
    void secretsFromVariablesOrFilesNotMeantForK3gpuAreRefusedAtTheirPositionWithoutBeingRead() {
        String lines = problemsIn("""
                cluster:
                  token: {env: GITHUB_TOKEN}
                ssh: {sudoPassword: {file: /etc/shadow}}
                hosts:
                  - {name: cp1, address: 10.0.0.1, role: server, ssh: {sudoPassword: {env: AWS_SECRET_ACCESS_KEY}}}
                  - {name: a1, address: 10.0.0.2, role: agent, ssh: {sudoPassword: {file: ../../root/.ssh/id_rsa}}}
                  - {name: a2, address: 10.0.0.3, role: agent, ssh: {sudoPassword: {file: .ssh/id_ed25519}}}
                """, Map.of("GITHUB_TOKEN", "ghp", "AWS_SECRET_ACCESS_KEY", "aws"));
        String places = "the cluster file's directory (/srv/fleet), ~/.config/k3gpu/ or a directory of $K3GPU_SECRET_DIRS";
        assertThat(lines).isEqualTo("""
                cluster.yaml:2:16: cluster.token: the environment variable GITHUB_TOKEN is not one k3gpu reads secrets from (names start with K3GPU_ or K3S_, or end in _SUDO_PASSWORD or _K3S_TOKEN)
                cluster.yaml:3:28: sudoPassword: /etc/shadow is outside the places secrets are read from: %s
                cluster.yaml:5:76: sudoPassword: the environment variable AWS_SECRET_ACCESS_KEY is not one k3gpu reads secrets from (names start with K3GPU_ or K3S_, or end in _SUDO_PASSWORD or _K3S_TOKEN)
                cluster.yaml:6:75: sudoPassword: /root/.ssh/id_rsa is outside the places secrets are read from: %s
                cluster.yaml:7:75: sudoPassword: /srv/fleet/.ssh/id_ed25519 is outside the places secrets are read from: %s
                """.formatted(places, places, places));
    }

    @Test
    void serverArgsWithAQuoteLeftOpenAreRefused() {
        assertThat(problems("""
                cluster: {serverArgs: "--node-label 'room=lab"}
                hosts: [{address: 10.0.0.1, role: server}]
                """)).isEqualTo("cluster.yaml:1:23: unbalanced quote in serverArgs: K3s's install script would refuse it\n");
    }

    @Test
    void suggestionsComeFromSpellingAndCase() {
        assertThat(ClusterFile.suggest("known_hosts", ClusterFile.SSH_KEYS)).isEqualTo("knownHosts");
        assertThat(ClusterFile.suggest("proxyjump", ClusterFile.SSH_KEYS)).isEqualTo("proxyJump");
        assertThat(ClusterFile.suggest("adress", ClusterFile.HOST_KEYS)).isEqualTo("address");
        assertThat(ClusterFile.suggest("zzz", ClusterFile.HOST_KEYS)).isNull();
        assertThat(List.of(ClusterFile.distance("kitten", "sitting"))).containsExactly(3);
    }
}
