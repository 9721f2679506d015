package io.k3gpu.cli;

import io.k3gpu.core.k3s.InstallCommands;
import io.k3gpu.core.k3s.InstallServer;
import io.k3gpu.core.k3s.K3sExec;
import io.k3gpu.core.k3s.K3sInstall;
import io.k3gpu.core.ssh.SshConnector;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "install",
        description = {"Install the K3s server on a node (as k3sup install) and wait until it is Ready.",
                "Fetches its kubeconfig, points it at the node's address and saves or merges it."})
final class InstallCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Mixin
    SshOptions ssh;

    @Mixin
    KubeconfigOutput kubeconfig;

    @Mixin
    StepTimeoutOptions deadline;

    @Mixin
    K3sSourceOptions source;

    @Option(names = "--k3s-extra-args", paramLabel = "ARGS", description = "More flags for k3s server, e.g. '--disable traefik'.")
    String extraArgs;

    @Option(names = "--tls-san", paramLabel = "NAME", description = "Extra name or address for the server certificate (repeatable).")
    List<String> tlsSans = new ArrayList<>();

    @Option(names = "--no-extras", description = "Leave out servicelb and traefik.")
    boolean noExtras;

    @Option(names = "--cluster", description = "Start an HA cluster with embedded etcd (--cluster-init); add servers with join --server.")
    boolean cluster;

    @Option(names = "--print-command", description = "Print the remote commands (the token redacted) on stderr as they run.")
    boolean printCommand;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "3m",
            description = "How long to wait for the server to be Ready (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    InstallCommand(Terminal terminal) {
        this.terminal = terminal;
        this.ssh = new SshOptions(terminal);
    }

    @Override
    public Integer call() {
        String address = ssh.address();
        List<String> sans = new ArrayList<>();
        sans.add(address);
        sans.addAll(tlsSans);
        String extra = (noExtras ? "--disable servicelb --disable traefik " : "") + (extraArgs == null ? "" : extraArgs);
        String exec = K3sExec.server(cluster, sans, false, extra);
        K3sInstall install = new K3sInstall(K3sInstall.Role.SERVER, exec, source.version, source.channel,
                null, null, source.installUrl, source.airgapBundle);
        if (printCommand) {
            print(terminal, install);
        }
        ConsoleEvents events = new ConsoleEvents(terminal.err());
        try (SshConnector connector = deadline.applyTo(ssh.connector())) {
            InstallServer.Result r = new InstallServer(events, timeout)
                    .run(connector.connect(ssh.target()), install, address, kubeconfig.context, false);
            String saved = kubeconfig.save(r.kubeconfig());
            terminal.out().println(r.host() + ": K3s server " + r.version() + " is Ready as node " + r.nodeName()
                    + " (" + r.serverUrl() + ")" + (r.installed() ? "" : "; it was already installed"));
            terminal.out().println(saved);
            terminal.out().println("next: export KUBECONFIG=" + kubeconfig.localPath.toAbsolutePath()
                    + "; k3gpu join --ip NODE --server-ip " + address + " --gpu");
            return 0;
        }
    }

    static void print(Terminal terminal, K3sInstall install) {
        terminal.err().println("# environment, fed on stdin (the token is never on a command line):");
        terminal.err().print(InstallCommands.envFile(install, true));
        terminal.err().println("# command:");
        terminal.err().println(InstallCommands.install(install, install.airgapBundle() == null ? null
                : "/var/lib/rancher/k3s/k3gpu-install.sh"));
    }

}
