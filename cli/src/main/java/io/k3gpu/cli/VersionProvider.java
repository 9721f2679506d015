package io.k3gpu.cli;

import picocli.CommandLine;

final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = K3gpu.class.getPackage().getImplementationVersion();
        return new String[]{"k3gpu " + (v == null ? "development build" : v)};
    }
}
