package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.node.ObjectNode;

/** kube-apiserver's defaulting as the lab applies it on create and update (golden JSON, v1.31's defaults). */
class DefaultsTest {
    static final String DS = """
            {"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"x","namespace":"kube-system"},
            "spec":{"selector":{"matchLabels":{"name":"x"}},"template":{"metadata":{"labels":{"name":"x"}},
            "spec":{"containers":[{"name":"c","image":"nvcr.io/nvidia/k8s-device-plugin:v0.17.4",
            "ports":[{"containerPort":2112}]},{"name":"d","image":"busybox"}]}}}}""";

    static ObjectNode created() {
        ObjectNode ds = Json.parseObject(DS);
        Defaults.create(ApiResources.find("apps", "v1", "daemonsets"), ds);
        return ds;
    }

    @Test
    void aDaemonSetGetsTheStrategyHistoryLimitPodDefaultsAndAFreshStatus() {
        ObjectNode ds = created();
        assertThat(Json.write(ds.path("spec").path("updateStrategy")))
                .isEqualTo("{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxUnavailable\":1,\"maxSurge\":0}}");
        assertThat(ds.path("spec").path("revisionHistoryLimit").asInt()).isEqualTo(10);
        assertThat(Json.write(ds.path("spec").path("template").path("spec"))).isEqualTo("{\"containers\":["
                + "{\"name\":\"c\",\"image\":\"nvcr.io/nvidia/k8s-device-plugin:v0.17.4\",\"ports\":[{\"containerPort\":"
                + "2112,\"protocol\":\"TCP\"}],\"imagePullPolicy\":\"IfNotPresent\",\"terminationMessagePath\":"
                + "\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\",\"resources\":{}},"
                + "{\"name\":\"d\",\"image\":\"busybox\",\"imagePullPolicy\":\"Always\",\"terminationMessagePath\":"
                + "\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\",\"resources\":{}}],"
                + "\"restartPolicy\":\"Always\",\"dnsPolicy\":\"ClusterFirst\",\"schedulerName\":\"default-scheduler\","
                + "\"terminationGracePeriodSeconds\":30,\"securityContext\":{}}");
        assertThat(ds.path("metadata").path("annotations").path("deprecated.daemonset.template.generation")
                .asString()).isEqualTo("1");
        assertThat(Json.write(ds.path("status"))).isEqualTo("{\"currentNumberScheduled\":0,\"numberMisscheduled\":0,"
                + "\"desiredNumberScheduled\":0,\"numberReady\":0}");
    }

    @Test
    void onDeleteHasNoRollingUpdateAndExplicitValuesStay() {
        ObjectNode ds = Json.parseObject(DS.replace("\"selector\"", "\"updateStrategy\":{\"type\":\"OnDelete\"},"
                + "\"revisionHistoryLimit\":3,\"selector\""));
        Defaults.create(ApiResources.find("apps", "v1", "daemonsets"), ds);
        assertThat(Json.write(ds.path("spec").path("updateStrategy"))).isEqualTo("{\"type\":\"OnDelete\"}");
        assertThat(ds.path("spec").path("revisionHistoryLimit").asInt()).isEqualTo(3);
    }

    @Test
    void aTemplateChangeBumpsTheTemplateGenerationAndKeepsTheStatus() {
        ObjectNode current = created();
        current.withObjectProperty("status").put("numberReady", 3);
        ObjectNode sameTemplate = current.deepCopy();
        sameTemplate.remove("status");
        sameTemplate.withObjectProperty("metadata").withObjectProperty("labels").put("l", "v");
        Defaults.update(ApiResources.find("apps", "v1", "daemonsets"), current, sameTemplate);
        assertThat(sameTemplate.path("metadata").path("annotations").path("deprecated.daemonset.template.generation")
                .asString()).isEqualTo("1");
        assertThat(sameTemplate.path("status").path("numberReady").asInt()).isEqualTo(3);

        ObjectNode newImage = current.deepCopy();
        ((ObjectNode) newImage.path("spec").path("template").path("spec").path("containers").get(1))
                .put("image", "busybox:1.36");
        Defaults.update(ApiResources.find("apps", "v1", "daemonsets"), current, newImage);
        assertThat(newImage.path("metadata").path("annotations").path("deprecated.daemonset.template.generation")
                .asString()).isEqualTo("2");
        // the container kept the pull policy it was given before the tag changed, as defaulting only fills gaps
        assertThat(newImage.path("spec").path("template").path("spec").path("containers").get(1)
                .path("imagePullPolicy").asString()).isEqualTo("Always");
    }

    @Test
    void podsAndJobTemplatesShareThePodDefaults() {
        ObjectNode pod = Json.parseObject("{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"r/x@sha256:ab\"}]}}");
        Defaults.create(ApiResources.find("", "v1", "pods"), pod);
        assertThat(pod.path("spec").path("containers").get(0).path("imagePullPolicy").asString())
                .isEqualTo("IfNotPresent");
        assertThat(pod.path("spec").path("serviceAccountName").asString()).isEqualTo("default");
        assertThat(pod.path("spec").path("securityContext").isObject()).isTrue();
        assertThat(pod.path("status").path("phase").asString()).isEqualTo("Pending");
        ObjectNode job = Json.parseObject("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\","
                + "\"image\":\"python:3.12\"}]}}}}");
        Defaults.create(ApiResources.find("batch", "v1", "jobs"), job);
        assertThat(job.path("spec").path("template").path("spec").path("restartPolicy").asString())
                .isEqualTo("Never");
        assertThat(job.path("spec").path("template").path("spec").path("dnsPolicy").asString())
                .isEqualTo("ClusterFirst");
        assertThat(job.path("spec").path("backoffLimit").asInt()).isEqualTo(6);
    }

    static ObjectNode job(String spec) {
        ObjectNode job = Json.parseObject("{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"j\"},"
                + "\"spec\":" + spec + "}");
        Defaults.create(ApiResources.find("batch", "v1", "jobs"), job);
        return job;
    }

    @Test
    void aJobGetsCompletionsOnlyWhenNeitherItNorParallelismIsSetAsSetDefaultsJob() {
        assertThat(job("{}").path("spec").path("completions").asInt()).isEqualTo(1);
        assertThat(job("{}").path("spec").path("parallelism").asInt()).isEqualTo(1);
        ObjectNode workQueue = job("{\"parallelism\":3}");
        assertThat(workQueue.path("spec").has("completions")).isFalse();
        assertThat(job("{\"completions\":4}").path("spec").path("parallelism").asInt()).isEqualTo(1);
        assertThat(job("{}").path("spec").path("completionMode").asString()).isEqualTo("NonIndexed");
    }

    @Test
    void anIndexedJobNeedsCompletionsAndAKnownModeInTheApisWords() {
        assertThat(Defaults.validateJob(job("{\"completionMode\":\"Indexed\",\"parallelism\":2}")))
                .isEqualTo("spec.completions: Required value: when completion mode is Indexed");
        assertThat(Defaults.validateJob(job("{\"completionMode\":\"Indexed\",\"completions\":2,\"parallelism\":2}")))
                .isNull();
        assertThat(Defaults.validateJob(job("{\"completionMode\":\"Indexed\",\"parallelism\":100001}")))
                .isEqualTo("[spec.completions: Required value: when completion mode is Indexed, spec.parallelism: "
                        + "Invalid value: 100001: must be less than or equal to 100000 when completion mode is Indexed]");
        assertThat(Defaults.validateJob(job("{\"completionMode\":\"Random\"}")))
                .isEqualTo("spec.completionMode: Unsupported value: \"Random\": supported values: \"Indexed\", "
                        + "\"NonIndexed\"");
        assertThat(Defaults.validateJob(job("{}"))).isNull();
    }
}
