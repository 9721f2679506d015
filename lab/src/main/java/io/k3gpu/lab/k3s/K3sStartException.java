package io.k3gpu.lab.k3s;

/** A start failure that K3s reports as {@code level=fatal}; the message is K3s's. */
public final class K3sStartException extends RuntimeException {
    public K3sStartException(String message) {
        super(message);
    }

    public K3sStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
