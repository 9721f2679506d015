package io.k3gpu.cli;

import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.util.Durations;
import picocli.CommandLine;

import java.time.Duration;

/** Durations as Go and kubectl write them (500ms, 10s, 2m, 1h30m): a bad one is a usage error before any SSH. */
final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
        Duration d;
        try {
            d = Durations.parse("the duration", value);
        } catch (K3gpuException e) {
            throw new CommandLine.TypeConversionException("'" + value + "' is not a duration (write it like 500ms, "
                    + "10s, 2m or 1h30m)");
        }
        if (d.isZero() || d.isNegative()) {
            throw new CommandLine.TypeConversionException("'" + value + "' is not a positive duration");
        }
        return d;
    }
}
