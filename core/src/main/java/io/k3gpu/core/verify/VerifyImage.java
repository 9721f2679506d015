package io.k3gpu.core.verify;

import java.util.List;

/**
 * The container image a GPU check runs on a node, and the command that makes its framework say whether CUDA works.
 * Defaults follow the node: the seed's TensorFlow image on JetPack 4 (L4T 32), NVIDIA's PyTorch images elsewhere.
 */
public record VerifyImage(String image, Framework framework) {

    public enum Framework { TENSORFLOW, PYTORCH }

    public static final String SEED_IMAGE = "icetekio/jetson-nano-tensorflow";

    /** The image for a node from its arch and L4T labels; an explicit image wins. */
    public static VerifyImage forNode(String arch, String l4t, String explicitImage) {
        if (explicitImage != null) {
            return new VerifyImage(explicitImage, explicitImage.toLowerCase().contains("tensorflow")
                    ? Framework.TENSORFLOW : Framework.PYTORCH);
        }
        if ("arm64".equals(arch) || "aarch64".equals(arch)) {
            if (l4t == null || l4t.startsWith("32.")) {
                return new VerifyImage(SEED_IMAGE, Framework.TENSORFLOW);
            }
            if (l4t.startsWith("35.")) {
                return new VerifyImage("nvcr.io/nvidia/l4t-pytorch:r35.2.1-pth2.0-py3", Framework.PYTORCH);
            }
            return new VerifyImage("dustynv/l4t-pytorch:r36.4.0", Framework.PYTORCH);
        }
        return new VerifyImage("nvcr.io/nvidia/pytorch:24.12-py3", Framework.PYTORCH);
    }

    /** The check: the seed's {@code echo 'import tensorflow' | python3}, or PyTorch's equivalent. */
    public List<String> command() {
        return framework == Framework.TENSORFLOW
                ? List.of("/bin/bash", "-c", "echo 'import tensorflow' | python3")
                : List.of("python3", "-c", "import torch; print('CUDA available:', torch.cuda.is_available(), "
                + "torch.cuda.device_count(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')");
    }
}
