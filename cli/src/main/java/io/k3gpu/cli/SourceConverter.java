package io.k3gpu.cli;

import io.k3gpu.core.telemetry.TelemetryStreamParser.SourceOption;
import picocli.CommandLine;

/** {@code --source auto|tegrastats|nvidia-smi}: a bad value is a usage error from picocli (exit 2). */
final class SourceConverter implements CommandLine.ITypeConverter<SourceOption> {
    @Override
    public SourceOption convert(String value) {
        try {
            return SourceOption.fromOption(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException("'" + value + "' is not auto, tegrastats or nvidia-smi");
        }
    }
}
