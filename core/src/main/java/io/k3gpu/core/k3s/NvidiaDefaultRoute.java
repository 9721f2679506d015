package io.k3gpu.core.k3s;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a K3s node on containerd gets NVIDIA as its default runtime, by the K3s release it runs. Pure.
 *
 * <p>K3s's own {@code --default-runtime} agent flag came with k3s-io/k3s#8936 in v1.29.0+k3s1 and was backported in
 * the December 2023 releases v1.28.5+k3s1, v1.27.9+k3s1 and v1.26.12+k3s1 (k3s-io/k3s#9013 for 1.27, #9014 for 1.26,
 * merged 2023-12-08; the v1.29.0+k3s1 notes list "Added default runtime flag for containerd"). The server CLI got the
 * flag only with k3s-io/k3s#9027 ("Allow setting default-runtime on servers", v1.29.0); its 1.26 backport #9028 was
 * never merged, so a server takes the flag from v1.29.0 only. Passed as a flag at install, it shows in the Node's
 * {@code k3s.io/node-args}. Older releases only have the containerd template K3s reads instead of generating its
 * config: {@code /var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl} ({@link ContainerdTemplate}).
 */
public final class NvidiaDefaultRoute {
    public static final String FLAG = "--default-runtime";

    /** The two ways, as plan names them. */
    public enum Route {
        /** {@code --default-runtime nvidia} on K3s's command line. */
        FLAG,
        /** K3s's containerd template with {@code default_runtime_name = "nvidia"}. */
        TEMPLATE
    }

    /**
     * The route and what it was decided from.
     *
     * @param release the K3s release or channel it was decided for, as shown ("K3s v1.31.4+k3s1", "channel stable")
     */
    public record Decision(Route route, String release, String reason) {
        public boolean flag() {
            return route == Route.FLAG;
        }

        /** As plan shows it after {@code gpu: k3s}. */
        public String describe() {
            return route == Route.FLAG ? FLAG + " nvidia (" + release + ")"
                    : "containerd config.toml.tmpl (" + reason + ")";
        }
    }

    private static final Pattern VERSION = Pattern.compile("v?(\\d+)\\.(\\d+)\\.(\\d+)(?:[-+].*)?");
    private static final Pattern MINOR_CHANNEL = Pattern.compile("v?(\\d+)\\.(\\d+)");

    private NvidiaDefaultRoute() {
    }

    /** Whether this K3s release has {@code --default-runtime} for the role; false for a version it cannot read. */
    public static boolean supports(String version, boolean server) {
        Matcher m = version == null ? null : VERSION.matcher(version.strip());
        if (m == null || !m.matches()) {
            return false;
        }
        return supports(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)), server);
    }

    private static boolean supports(int major, int minor, int patch, boolean server) {
        if (major != 1) {
            return major > 1;
        }
        if (minor >= 29) {
            return true;
        }
        if (server) {
            return false;
        }
        return switch (minor) {
            case 28 -> patch >= 5;
            case 27 -> patch >= 9;
            case 26 -> patch >= 12;
            default -> false;
        };
    }

    /** The route for a known release, e.g. v1.31.4+k3s1. */
    public static Decision forVersion(String version, boolean server) {
        String release = "K3s " + version;
        if (supports(version, server)) {
            return new Decision(Route.FLAG, release, release + " has " + FLAG);
        }
        return new Decision(Route.TEMPLATE, release, release + " has no " + FLAG + (server && supports(version, false)
                ? " for servers (it came to the server CLI in v1.29.0)" : ""));
    }

    /**
     * The route for a release channel, before the install resolves it: stable, latest and testing have named
     * releases from v1.29 on since early 2024; a minor channel (v1.28) resolves to that line's newest patch.
     */
    public static Decision forChannel(String channel, boolean server) {
        String c = channel == null ? "stable" : channel.strip();
        String release = "channel " + c;
        Matcher m = MINOR_CHANNEL.matcher(c);
        boolean flag;
        if (m.matches()) {
            flag = supports(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.MAX_VALUE, server);
        } else {
            flag = c.equals("stable") || c.equals("latest") || c.equals("testing");
        }
        return flag ? new Decision(Route.FLAG, release, release + " gives a release with " + FLAG)
                : new Decision(Route.TEMPLATE, release, release + " gives a release without " + FLAG
                + (server ? " for servers" : ""));
    }
}
