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
import java.util.Set;

/**
 * The k3gpu command line: one class per verb; this one wires them and owns exit codes and error rendering. Its
 * subcommands are {@link Commands#LIST}, registered by hand so that a run builds picocli's model of the command it
 * runs only (docs/benchmarks.md, "Start-up").
 */
@Command(name = "k3gpu",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Turn NVIDIA GPU machines (Jetson boards, GPU servers) into GPU nodes of a K3s cluster, over SSH.",
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
    /**
     * The subcommands of the user's jar, in the order {@code --help} lists them. A holder of its own, so that
     * {@code --version} and {@code --help} (answered by {@link QuickAnswers}) do not load these classes.
     */
    static final class Commands {
        record Sub(String name, Class<?> type) {
        }

        static final List<Sub> LIST = List.of(
                new Sub("ssh-keys", SshKeysCommand.class),
                new Sub("facts", FactsCommand.class),
                new Sub("doctor", DoctorCommand.class),
                new Sub("gpu-runtime", GpuRuntimeCommand.class),
                new Sub("install", InstallCommand.class),
                new Sub("join", JoinCommand.class),
                new Sub("get-config", GetConfigCommand.class),
                new Sub("node-token", NodeTokenCommand.class),
                new Sub("ready", ReadyCommand.class),
                new Sub("nodes", NodesCommand.class),
                new Sub("label", LabelCommand.class),
                new Sub("reset", ResetCommand.class),
                new Sub("plan", PlanCommand.class),
                new Sub("apply", ApplyCommand.class),
                new Sub("device-plugin", DevicePluginCommand.class),
                new Sub("verify", VerifyCommand.class),
                new Sub("train", TrainCommand.class),
                new Sub("jobs", JobsCommand.class),
                new Sub("logs", LogsCommand.class),
                new Sub("stats", StatsCommand.class),
                new Sub("exporter", ExporterCommand.class),
                new Sub("completion", CompletionCommand.class),
                new Sub("dashboard", DashboardCommand.class),
                new Sub("help", CommandLine.HelpCommand.class));

        /** Commands that work on the whole tree: {@code help} lists or describes the others, completion scripts them. */
        static final Set<String> NEED_ALL = Set.of("help", "completion");

        private Commands() {
        }
    }


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
        try {
            String quick = QuickAnswers.answer(args, moreCommands.isEmpty());
            if (quick != null) {
                out.print(quick);
                return 0;
            }
            CommandLine cl = commandLine(new Terminal(out, err, stdout, in, env), moreCommands, args);
            cl.setOut(out);
            cl.setErr(err);
            return cl.execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** The whole command tree on these streams (also what the build's shell completions are made from). */
    static CommandLine commandLine(PrintWriter out, PrintWriter err, InputStream in, Map<String, String> env,
                                   List<Class<?>> moreCommands) {
        CommandLine cl = commandLine(new Terminal(out, err, in, env), moreCommands, new String[0]);
        cl.setOut(out);
        cl.setErr(err);
        return cl;
    }

    /** The whole command tree for one terminal, with k3gpu's converters, handlers and help options. */
    static CommandLine commandLine(Terminal terminal) {
        return commandLine(terminal, List.of(), new String[0]);
    }

    /**
     * The tree that {@code args} need: the root with the one subcommand they name, or with all of them when they name
     * none, one that is not there (picocli's "did you mean" needs them all), {@code help} or {@code completion}.
     * picocli builds a command's model by reflection when it is added; building all ~25 took most of a short
     * command's start.
     */
    static CommandLine commandLine(Terminal terminal, List<Class<?>> moreCommands, String[] args) {
        CommandLine cl = new CommandLine(new K3gpu(), new Factory(terminal));
        String name = commandName(args);
        List<Commands.Sub> only = Commands.LIST.stream().filter(c -> c.name().equals(name)).toList();
        List<Class<?>> more = moreCommands.stream().filter(c -> name != null && name.equals(nameOf(c))).toList();
        if (name == null || Commands.NEED_ALL.contains(name) || (only.isEmpty() && more.isEmpty())) {
            only = Commands.LIST;
            more = moreCommands;
        }
        for (Commands.Sub c : only) {
            cl.addSubcommand(c.name(), c.type());
        }
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.registerConverter(Duration.class, new DurationConverter());
        cl.setExecutionExceptionHandler(new ErrorHandler());
        cl.setParameterExceptionHandler(ErrorHandler::usage);
        cl.setExitCodeExceptionMapper(t -> ExitCode.FAILED.code());
        // the lab's commands, added after the settings above as they always were
        more.forEach(cl::addSubcommand);
        withHelpEverywhere(cl);
        return cl;
    }

    /**
     * The subcommand {@code args} run: the first argument that is not an option (the root's options take no value),
     * or null when there is none or picocli would read the arguments otherwise ({@code --} ends the options, an
     * {@code @file} stands for more arguments).
     */
    static String commandName(String[] args) {
        for (String a : args) {
            if (a.equals("--") || a.startsWith("@")) {
                return null;
            }
            if (!a.startsWith("-")) {
                return a;
            }
        }
        return null;
    }

    private static String nameOf(Class<?> command) {
        Command c = command.getAnnotation(Command.class);
        return c == null ? null : c.name();
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
        String quick = QuickAnswers.answer(args, moreCommands.isEmpty());
        if (quick != null) {
            // --version, --help: nothing else to set up (docs/benchmarks.md, "Start-up")
            PrintWriter out = new PrintWriter(System.out);
            out.print(quick);
            out.flush();
            System.exit(0);
        }
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
