package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The k3gpu command line: one class per verb; this one wires them and owns exit codes and error rendering. */
@Command(name = "k3gpu",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Turn NVIDIA GPU machines (Jetson boards, GPU servers) into GPU nodes of a K3s cluster, over SSH.",
        subcommands = {
                SshKeysCommand.class,
                FactsCommand.class,
                DoctorCommand.class,
                GpuRuntimeCommand.class,
                InstallCommand.class,
                JoinCommand.class,
                GetConfigCommand.class,
                NodeTokenCommand.class,
                ReadyCommand.class,
                NodesCommand.class,
                LabelCommand.class,
                ResetCommand.class,
                PlanCommand.class, ApplyCommand.class,
                DevicePluginCommand.class,
                VerifyCommand.class,
                TrainCommand.class,
                JobsCommand.class,
                LogsCommand.class,
                StatsCommand.class,
                ExporterCommand.class,
                CompletionCommand.class,
                DashboardCommand.class,
                CommandLine.HelpCommand.class
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
                "0:success",
                "1:the operation failed (e.g. a verification did not pass, a change was rolled back)",
                "2:usage error: bad flags or input",
                "3:SSH failure: connect, host key or authentication",
                "4:a command on the node failed (its exit code and stderr are in the message)",
                "5:Kubernetes API error",
                "7:timed out",
                "130:interrupted"})
public final class K3gpu {

    @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT,
            description = "Print stack traces and details of failures.")
    boolean debug;

    /** Runs k3gpu with the given streams and environment; returns the exit code (tests call this). */
    public static int run(String[] args, PrintWriter out, PrintWriter err, InputStream in, Map<String, String> env) {
        return run(args, out, err, in, env, List.of());
    }

    /**
     * As {@link #run(String[], PrintWriter, PrintWriter, InputStream, Map)}, with more subcommands: the lab's jar
     * adds {@code lab} and {@code demo}, which the user's jar does not carry.
     */
    public static int run(String[] args, PrintWriter out, PrintWriter err, InputStream in, Map<String, String> env,
                          List<Class<?>> moreCommands) {
        return run(args, out, err, null, in, env, moreCommands);
    }

    /** As above, with the process's standard output as bytes too ({@link Terminal#outBytes()}). */
    private static int run(String[] args, PrintWriter out, PrintWriter err, OutputStream stdout, InputStream in,
                           Map<String, String> env, List<Class<?>> moreCommands) {
        CommandLine cl = commandLine(new Terminal(out, err, stdout, in, env), out, err, moreCommands);
        try {
            return cl.execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** The whole command tree on these streams (also what the build's shell completions are made from). */
    static CommandLine commandLine(PrintWriter out, PrintWriter err, InputStream in, Map<String, String> env,
                                   List<Class<?>> moreCommands) {
        return commandLine(new Terminal(out, err, in, env), out, err, moreCommands);
    }

    private static CommandLine commandLine(Terminal terminal, PrintWriter out, PrintWriter err,
                                           List<Class<?>> moreCommands) {
        CommandLine cl = commandLine(terminal);
        moreCommands.forEach(cl::addSubcommand);
        withHelpEverywhere(cl);
        cl.setOut(out);
        cl.setErr(err);
        return cl;
    }

    /** The whole command tree for one terminal, with k3gpu's converters, handlers and help options. */
    static CommandLine commandLine(Terminal terminal) {
        CommandLine cl = new CommandLine(new K3gpu(), new Factory(terminal));
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.registerConverter(Duration.class, new DurationConverter());
        cl.setExecutionExceptionHandler(new ErrorHandler());
        cl.setParameterExceptionHandler(ErrorHandler::usage);
        cl.setExitCodeExceptionMapper(t -> ExitCode.FAILED.code());
        withHelpEverywhere(cl);
        return cl;
    }

    /** -h/--help and -V/--version on every subcommand, as on the top command. */
    private static void withHelpEverywhere(CommandLine cl) {
        for (CommandLine sub : cl.getSubcommands().values()) {
            if (sub.getCommandSpec().findOption("--version") != null) {
                // a command whose --version is its own (device-plugin's plugin version): only -h/--help
                if (sub.getCommandSpec().findOption("--help") == null) {
                    sub.getCommandSpec().addOption(CommandLine.Model.OptionSpec.builder("-h", "--help").usageHelp(true)
                            .description("Show this help message and exit.").build());
                }
            } else if (!sub.getCommandSpec().mixinStandardHelpOptions()) {
                sub.getCommandSpec().mixinStandardHelpOptions(true);
            }
            withHelpEverywhere(sub);
        }
    }

    public static void main(String[] args) {
        main(args, List.of());
    }

    /** The process entry point of a jar: runs k3gpu (with {@code moreCommands}) and exits with its code. */
    public static void main(String[] args, List<Class<?>> moreCommands) {
        // before anything can create a logger: a pre-scan, since picocli has not parsed yet (a value "--debug" of
        // another option would turn the logs on too: harmless)
        Logs.configure(java.util.Arrays.asList(args).contains("--debug"));
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        InterruptReport.install(err);
        // stdout's bytes unbuffered (the command buffers): System.out would pass them through its own small buffer
        int code = run(args, out, err, new FileOutputStream(FileDescriptor.out), System.in, System.getenv(),
                moreCommands);
        InterruptReport.finished();
        System.exit(code);
    }

    /** Gives every command the terminal (streams, stdin, environment) of this run. */
    private record Factory(Terminal terminal) implements CommandLine.IFactory {
        @Override
        public <K> K create(Class<K> cls) throws Exception {
            try {
                return cls.getDeclaredConstructor(Terminal.class).newInstance(terminal);
            } catch (NoSuchMethodException e) {
                return CommandLine.defaultFactory().create(cls);
            }
        }
    }

}
