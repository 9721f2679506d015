package io.k3gpu.lab.k3s;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code k3s server} was asked to do: the subset of K3s's server flags that the simulation acts on, with K3s's
 * defaults. Built by {@link K3sFlags} from a command line, config.yaml and the environment, or directly by tests.
 * Paths that default under {@code /etc/rancher} and {@code /var/lib/rancher} move under {@link #etcRoot} when one
 * is set, so tests run without root.
 */
public final class K3sServerOptions {
    public static final String DEFAULT_VERSION = "v1.31.4+k3s1";

    Path etcRoot;
    Path dataDir;
    Path kubeconfigOutput;
    String kubeconfigMode;
    String bindAddress = "0.0.0.0";
    int httpsPort = 6443;
    String advertiseAddress;
    String token;
    Path tokenFile;
    String agentToken;
    Path agentTokenFile;
    final List<String> tlsSans = new ArrayList<>();
    String nodeName;
    final List<String> nodeIps = new ArrayList<>();
    final List<String> nodeExternalIps = new ArrayList<>();
    final List<String> nodeLabels = new ArrayList<>();
    final List<String> nodeTaints = new ArrayList<>();
    boolean docker;
    String defaultRuntime;
    boolean clusterInit;
    String serverUrl;
    boolean disableAgent;
    boolean disableHelmController;
    final List<String> disables = new ArrayList<>();
    String version = DEFAULT_VERSION;
    String commit = "k3gpu-lab";
    Duration heartbeat = Duration.ofSeconds(10);
    /** metrics-server's --metric-resolution in K3s's manifest. */
    Duration metricResolution = Duration.ofSeconds(15);
    PrintStream logOutput = System.err;
    boolean debug;
    Clock clock = Clock.systemUTC();
    HostFacts hostFacts;
    final List<String> nodeArgs = new ArrayList<>();
    Path embeddedAgent;
    final List<String> agentFlags = new ArrayList<>();

    public static K3sServerOptions defaults() {
        return new K3sServerOptions();
    }

    /** Prefix for /etc/rancher and /var/lib/rancher (a lab-only flag, {@code --etc-root}). */
    public K3sServerOptions etcRoot(Path root) {
        this.etcRoot = root;
        return this;
    }

    public K3sServerOptions dataDir(Path dir) {
        this.dataDir = dir;
        return this;
    }

    public K3sServerOptions writeKubeconfig(Path path) {
        this.kubeconfigOutput = path;
        return this;
    }

    /** Octal text as K3s takes it ({@code 0644}); default 0600. */
    public K3sServerOptions writeKubeconfigMode(String mode) {
        this.kubeconfigMode = mode;
        return this;
    }

    public K3sServerOptions bindAddress(String address) {
        this.bindAddress = address;
        return this;
    }

    /** 0 picks a free port (tests); the kubeconfig then names the port actually bound. */
    public K3sServerOptions httpsListenPort(int port) {
        this.httpsPort = port;
        return this;
    }

    public K3sServerOptions advertiseAddress(String address) {
        this.advertiseAddress = address;
        return this;
    }

    public K3sServerOptions token(String token) {
        this.token = token;
        return this;
    }

    public K3sServerOptions tokenFile(Path file) {
        this.tokenFile = file;
        return this;
    }

    public K3sServerOptions agentToken(String token) {
        this.agentToken = token;
        return this;
    }

    public K3sServerOptions agentTokenFile(Path file) {
        this.agentTokenFile = file;
        return this;
    }

    public K3sServerOptions tlsSan(String san) {
        this.tlsSans.add(san);
        return this;
    }

    public K3sServerOptions nodeName(String name) {
        this.nodeName = name;
        return this;
    }

    public K3sServerOptions nodeIp(String ip) {
        this.nodeIps.add(ip);
        return this;
    }

    public K3sServerOptions nodeExternalIp(String ip) {
        this.nodeExternalIps.add(ip);
        return this;
    }

    /** {@code key=value}. */
    public K3sServerOptions nodeLabel(String label) {
        this.nodeLabels.add(label);
        return this;
    }

    /** {@code key=value:Effect} or {@code key:Effect}. */
    public K3sServerOptions nodeTaint(String taint) {
        this.nodeTaints.add(taint);
        return this;
    }

    public K3sServerOptions docker(boolean docker) {
        this.docker = docker;
        return this;
    }

    public K3sServerOptions defaultRuntime(String runtime) {
        this.defaultRuntime = runtime;
        return this;
    }

    public K3sServerOptions clusterInit(boolean clusterInit) {
        this.clusterInit = clusterInit;
        return this;
    }

    /** {@code --server URL}: join an existing server as an extra control-plane node. */
    public K3sServerOptions server(String url) {
        this.serverUrl = url;
        return this;
    }

    public K3sServerOptions disableAgent(boolean disable) {
        this.disableAgent = disable;
        return this;
    }

    /**
     * {@code --disable-helm-controller}: K3s starts no helm-controller, so HelmCharts (traefik's too: its manifest is
     * still deployed) are never installed.
     */
    public K3sServerOptions disableHelmController(boolean disable) {
        this.disableHelmController = disable;
        return this;
    }

    public K3sServerOptions disable(String component) {
        this.disables.add(component);
        return this;
    }

    /** The Kubernetes version the server reports (INSTALL_K3S_VERSION picks it). */
    public K3sServerOptions version(String version) {
        this.version = version;
        return this;
    }

    /** The release's commit, shown in the start line ({@code Starting k3s v1.31.4+k3s1 (<commit>)}). */
    public K3sServerOptions commit(String commit) {
        this.commit = commit;
        return this;
    }

    public K3sServerOptions heartbeat(Duration every) {
        this.heartbeat = every;
        return this;
    }

    /** How often the metrics API scrapes the kubelets (tests shorten it). */
    public K3sServerOptions metricResolution(Duration every) {
        this.metricResolution = every;
        return this;
    }

    public K3sServerOptions logTo(PrintStream out) {
        this.logOutput = out;
        return this;
    }

    public K3sServerOptions debug(boolean debug) {
        this.debug = debug;
        return this;
    }

    public K3sServerOptions clock(Clock clock) {
        this.clock = clock;
        return this;
    }

    /** The host's facts for the server's own Node; probed from the machine when not given. */
    public K3sServerOptions hostFacts(HostFacts facts) {
        this.hostFacts = facts;
        return this;
    }

    /** The command-line arguments recorded (token values redacted) in the Node's k3s.io/node-args annotation. */
    public K3sServerOptions nodeArgs(List<String> args) {
        this.nodeArgs.clear();
        this.nodeArgs.addAll(args);
        return this;
    }

    /**
     * The lab agent program ({@code k3s-agent.py[c]}) that runs as the server's embedded agent unless
     * --disable-agent; null (in-process servers of tests) keeps the Node in Java with no pods run on it.
     */
    public K3sServerOptions embeddedAgent(Path program) {
        this.embeddedAgent = program;
        return this;
    }

    /** The server's agent flags handed to the embedded agent ({@code --node-label=...}, ...). */
    public K3sServerOptions agentFlags(List<String> flags) {
        this.agentFlags.clear();
        this.agentFlags.addAll(flags);
        return this;
    }

    Path root() {
        return etcRoot == null ? Path.of("/") : etcRoot;
    }

    Path resolvedDataDir() {
        return dataDir != null ? dataDir : root().resolve("var/lib/rancher/k3s");
    }

    Path resolvedKubeconfig() {
        return kubeconfigOutput != null ? kubeconfigOutput : root().resolve("etc/rancher/k3s/k3s.yaml");
    }

    String resolvedKubeconfigMode() {
        return kubeconfigMode == null || kubeconfigMode.isBlank() ? "0600" : kubeconfigMode;
    }

    boolean disabled(String component) {
        return disables.contains(component);
    }
}
