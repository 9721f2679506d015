package io.k3gpu.core.runtime;

/**
 * A planned edit of one configuration file: its text before and after. When {@code changed} is false the file is
 * already as wanted and {@code after} is {@code before}, byte for byte, so nothing needs writing or restarting.
 * An absent file has the {@code before} text {@code ""}.
 */
public record ConfigEdit(String before, String after, boolean changed) {
}
