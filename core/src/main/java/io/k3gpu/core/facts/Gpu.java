package io.k3gpu.core.facts;

/**
 * A discrete GPU as {@code nvidia-smi --query-gpu=index,name,uuid,memory.total,driver_version} reports it.
 *
 * @param memoryTotalMiB total memory in MiB, null when nvidia-smi reports none ({@code [N/A]})
 */
public record Gpu(int index, String name, String uuid, Long memoryTotalMiB, String driverVersion) {
}
