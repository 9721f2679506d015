package io.k3gpu.core.kube;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.representer.Representer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** Pod and Job templates kept as YAML on the classpath, loaded as data, adjusted in code and written back. */
public final class Manifests {
    private Manifests() {
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> load(String name) {
        try (InputStream in = Manifests.class.getResourceAsStream("/io/k3gpu/manifests/" + name)) {
            if (in == null) {
                throw new IllegalStateException("missing manifest template " + name);
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return (Map<String, Object>) new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
        } catch (IOException e) {
            throw new K3gpuException(ExitCode.FAILED, "cannot read manifest template " + name, null, e);
        }
    }

    public static String dump(Map<String, Object> doc) {
        DumperOptions o = new DumperOptions();
        o.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        o.setIndicatorIndent(2);
        o.setIndentWithIndicator(true);
        o.setWidth(Integer.MAX_VALUE);
        return new Yaml(new Representer(o), o).dump(doc);
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> map(Map<String, Object> parent, String key) {
        return (Map<String, Object>) parent.get(key);
    }

    @SuppressWarnings("unchecked")
    public static List<Map<String, Object>> list(Map<String, Object> parent, String key) {
        return (List<Map<String, Object>>) parent.get(key);
    }
}
