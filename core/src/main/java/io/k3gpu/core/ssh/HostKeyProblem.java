package io.k3gpu.core.ssh;

/** Why a host key was refused, kept by the verifier so the failure can be explained in one line. */
record HostKeyProblem(Kind kind, String host, String knownHostsFile, int line, String presentedFingerprint) {
    enum Kind { UNKNOWN, CHANGED }
}
