package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

class TablesTest {
    private static final Instant NOW = Instant.parse("2026-11-28T18:00:00Z");

    @Test
    void humanDurationsAreKubectls() {
        assertThat(Tables.human(Duration.ofSeconds(45))).isEqualTo("45s");
        assertThat(Tables.human(Duration.ofSeconds(119))).isEqualTo("119s");
        assertThat(Tables.human(Duration.ofSeconds(200))).isEqualTo("3m20s");
        assertThat(Tables.human(Duration.ofMinutes(15))).isEqualTo("15m");
        assertThat(Tables.human(Duration.ofMinutes(5 * 60 + 3))).isEqualTo("5h3m");
        assertThat(Tables.human(Duration.ofHours(20))).isEqualTo("20h");
        assertThat(Tables.human(Duration.ofHours(76))).isEqualTo("3d4h");
        assertThat(Tables.human(Duration.ofDays(30))).isEqualTo("30d");
        assertThat(Tables.human(Duration.ofDays(740))).isEqualTo("2y10d");
    }

    @Test
    void nodeRowHasWideColumns() {
        ObjectNode node = Json.parseObject(("{'metadata':{'name':'jetson1','creationTimestamp':'2026-11-28T17:55:00Z',"
                + "'labels':{'node-role.kubernetes.io/master':'true','node-role.kubernetes.io/control-plane':'true'}},"
                + "'status':{'conditions':[{'type':'Ready','status':'True'}],'addresses':[{'type':'InternalIP',"
                + "'address':'192.168.0.40'},{'type':'Hostname','address':'jetson1'}],'nodeInfo':{'kubeletVersion':"
                + "'v1.31.4+k3s1','osImage':'Ubuntu 18.04.6 LTS','kernelVersion':'4.9.253-tegra',"
                + "'containerRuntimeVersion':'docker://20.10.21'}}}").replace('\'', '"'));
        ObjectNode t = Tables.table(ApiResources.find("", "v1", "nodes"), List.of(node), "5", null, NOW,
                "meta.k8s.io/v1");
        List<String> names = t.path("columnDefinitions").valueStream().map(c -> c.path("name").asString()).toList();
        assertThat(names).containsExactly("Name", "Status", "Roles", "Age", "Version", "Internal-IP", "External-IP",
                "OS-Image", "Kernel-Version", "Container-Runtime");
        assertThat(t.path("rows").get(0).path("cells").valueStream().map(JsonNode::asString).toList())
                .containsExactly("jetson1", "Ready", "control-plane,master", "5m", "v1.31.4+k3s1", "192.168.0.40",
                        "<none>", "Ubuntu 18.04.6 LTS", "4.9.253-tegra", "docker://20.10.21");
        assertThat(t.path("rows").get(0).path("object").path("kind").asString()).isEqualTo("PartialObjectMetadata");
    }

    @Test
    void serviceRowsAreKubectls() {
        ObjectNode lb = Json.parseObject(("{'metadata':{'name':'traefik','creationTimestamp':'2026-11-28T17:55:00Z'},"
                + "'spec':{'type':'LoadBalancer','clusterIP':'10.43.9.1','clusterIPs':['10.43.9.1'],'selector':{"
                + "'b':'2','a':'1'},'ports':[{'port':80,'nodePort':31080,'protocol':'TCP'},{'port':443,"
                + "'nodePort':31443,'protocol':'TCP'}]},'status':{'loadBalancer':{'ingress':[{'ip':'10.213.215.11'},"
                + "{'ip':'10.213.215.12'}]}}}").replace('\'', '"'));
        ObjectNode pending = Json.parseObject(("{'metadata':{'name':'web','creationTimestamp':'2026-11-28T17:55:00Z'},"
                + "'spec':{'type':'LoadBalancer','clusterIP':'10.43.9.2','ports':[{'port':8080,'nodePort':30001,"
                + "'protocol':'TCP'}]}}").replace('\'', '"'));
        ObjectNode headless = Json.parseObject(("{'metadata':{'name':'h','creationTimestamp':'2026-11-28T17:55:00Z'},"
                + "'spec':{'type':'ClusterIP','clusterIP':'None','clusterIPs':['None'],'ports':[{'port':53,"
                + "'protocol':'UDP'}]}}").replace('\'', '"'));
        ObjectNode t = Tables.table(ApiResources.find("", "v1", "services"), List.of(lb, pending, headless), "5",
                null, NOW, "meta.k8s.io/v1");
        assertThat(t.path("columnDefinitions").valueStream().map(c -> c.path("name").asString()).toList())
                .containsExactly("Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector");
        assertThat(t.path("rows").valueStream().map(r -> r.path("cells").valueStream().map(JsonNode::asString)
                .toList()).toList()).containsExactly(
                List.of("traefik", "LoadBalancer", "10.43.9.1", "10.213.215.11,10.213.215.12",
                        "80:31080/TCP,443:31443/TCP", "5m", "a=1,b=2"),
                List.of("web", "LoadBalancer", "10.43.9.2", "<pending>", "8080:30001/TCP", "5m", "<none>"),
                List.of("h", "ClusterIP", "None", "<none>", "53/UDP", "5m", "<none>"));
    }

    @Test
    void podStatusFollowsKubectlRules() {
        ObjectNode pod = Json.parseObject(("{'metadata':{'name':'mnist','creationTimestamp':'2026-11-28T17:59:00Z'},"
                + "'spec':{'nodeName':'jetson1','initContainers':[{'name':'clone'}],'containers':[{'name':'train'}]},"
                + "'status':{'phase':'Pending','podIP':'10.42.1.5','initContainerStatuses':[{'name':'clone',"
                + "'state':{'running':{}}}]}}").replace('\'', '"'));
        ObjectNode t = Tables.table(ApiResources.find("", "v1", "pods"), List.of(pod), "5", null, NOW,
                "meta.k8s.io/v1");
        assertThat(t.path("rows").get(0).path("cells").valueStream().map(JsonNode::asString).toList())
                .containsExactly("mnist", "0/1", "Init:0/1", "0", "60s", "10.42.1.5", "jetson1", "<none>", "<none>");

        ObjectNode failed = Json.parseObject(("{'metadata':{'name':'gpu-test','creationTimestamp':"
                + "'2026-11-28T17:59:00Z'},'spec':{'containers':[{'name':'tf'}]},'status':{'phase':'Pending',"
                + "'containerStatuses':[{'name':'tf','ready':false,'restartCount':2,'state':{'waiting':{'reason':"
                + "'ImagePullBackOff'}}}]}}").replace('\'', '"'));
        ObjectNode t2 = Tables.table(ApiResources.find("", "v1", "pods"), List.of(failed), "5", null, NOW,
                "meta.k8s.io/v1");
        assertThat(t2.path("rows").get(0).path("cells").get(2).asString()).isEqualTo("ImagePullBackOff");
        assertThat(t2.path("rows").get(0).path("cells").get(3).asString()).isEqualTo("2");
    }

    @Test
    void jobStatusCompletionsAndDuration() {
        ObjectNode job = Json.parseObject(("{'metadata':{'name':'mnist','creationTimestamp':'2026-11-28T17:50:00Z'},"
                + "'spec':{'completions':1,'template':{'spec':{'containers':[{'name':'train','image':'python:3'}]}}},"
                + "'status':{'succeeded':1,'startTime':'2026-11-28T17:50:00Z','completionTime':"
                + "'2026-11-28T17:53:20Z','conditions':[{'type':'Complete','status':'True'}]}}").replace('\'', '"'));
        ObjectNode t = Tables.table(ApiResources.find("batch", "v1", "jobs"), List.of(job), "5", null, NOW,
                "meta.k8s.io/v1");
        assertThat(t.path("rows").get(0).path("cells").valueStream().map(JsonNode::asString).toList())
                .containsExactly("mnist", "Complete", "1/1", "3m20s", "10m", "train", "python:3", "<none>");
    }
    private static List<String> podRow(String json) {
        ObjectNode pod = Json.parseObject(json.replace('\'', '"'));
        return Tables.table(ApiResources.find("", "v1", "pods"), List.of(pod), "5", null, NOW, "meta.k8s.io/v1")
                .path("rows").get(0).path("cells").valueStream().map(JsonNode::asString).toList();
    }

    @Test
    void podStatusEdgeCasesAreKubectls() {
        String meta = "'metadata':{'name':'p','creationTimestamp':'2026-11-28T17:59:00Z'%s}";
        // a finished pod being deleted shows how it ended, not Terminating
        assertThat(podRow("{" + meta.formatted(",'deletionTimestamp':'2026-11-28T18:00:30Z'") + ",'spec':{"
                + "'containers':[{'name':'c'}]},'status':{'phase':'Succeeded','containerStatuses':[{'name':'c',"
                + "'state':{'terminated':{'exitCode':0,'reason':'Completed'}}}]}}").get(2)).isEqualTo("Completed");
        assertThat(podRow("{" + meta.formatted(",'deletionTimestamp':'2026-11-28T18:00:30Z'") + ",'spec':{"
                + "'containers':[{'name':'c'}]},'status':{'phase':'Running','containerStatuses':[{'name':'c',"
                + "'ready':true,'state':{'running':{}}}]}}").get(2)).isEqualTo("Terminating");
        assertThat(podRow("{" + meta.formatted("") + ",'spec':{'containers':[{'name':'c'}]},'status':{'phase':"
                + "'Failed','containerStatuses':[{'name':'c','state':{'terminated':{'exitCode':137,'signal':9}}}]}}")
                .get(2)).isEqualTo("Signal:9");
        assertThat(podRow("{" + meta.formatted("") + ",'spec':{'containers':[{'name':'a'},{'name':'b'}]},'status':{"
                + "'phase':'Running','containerStatuses':[{'name':'a','ready':true,'state':{'running':{}}},{'name':'b',"
                + "'state':{'terminated':{'exitCode':0,'reason':'Completed'}}}]}}").get(2)).isEqualTo("NotReady");
        assertThat(podRow("{" + meta.formatted("") + ",'spec':{'containers':[{'name':'c'}]},'status':{'phase':"
                + "'Pending','conditions':[{'type':'PodScheduled','status':'False','reason':'SchedulingGated'}]}}")
                .get(2)).isEqualTo("SchedulingGated");
        List<String> restarted = podRow("{" + meta.formatted("") + ",'spec':{'containers':[{'name':'c'}]},'status':{"
                + "'phase':'Running','podIPs':[{'ip':'10.42.1.7'}],'containerStatuses':[{'name':'c','ready':true,"
                + "'restartCount':2,'lastState':{'terminated':{'exitCode':1,'finishedAt':'2026-11-28T17:55:00Z'}},"
                + "'state':{'running':{}}}]}}");
        assertThat(restarted.subList(1, 6)).containsExactly("1/1", "Running", "2 (5m ago)", "60s", "10.42.1.7");
    }

    @Test
    void jobStatusPrecedenceIsKubectls() {
        ObjectNode job = Json.parseObject(("{'metadata':{'name':'j','creationTimestamp':'2026-11-28T17:50:00Z',"
                + "'deletionTimestamp':'2026-11-28T17:59:00Z'},'spec':{'completions':1},'status':{'conditions':["
                + "{'type':'FailureTarget','status':'True'}]}}").replace('\'', '"'));
        assertThat(Tables.table(ApiResources.find("batch", "v1", "jobs"), List.of(job), "5", null, NOW,
                "meta.k8s.io/v1").path("rows").get(0).path("cells").get(1).asString()).isEqualTo("Terminating");
        ((tools.jackson.databind.node.ArrayNode) job.path("status").path("conditions")).addObject()
                .put("type", "Failed").put("status", "True");
        assertThat(Tables.table(ApiResources.find("batch", "v1", "jobs"), List.of(job), "5", null, NOW,
                "meta.k8s.io/v1").path("rows").get(0).path("cells").get(1).asString()).isEqualTo("Failed");
    }

    @Test
    void daemonSetRowHasTheCountersAndTheNodeSelector() {
        ObjectNode ds = Json.parseObject(("{'metadata':{'name':'nvidia-device-plugin-daemonset','creationTimestamp':"
                + "'2026-11-28T17:58:00Z'},'spec':{'selector':{'matchLabels':{'name':'nvidia-device-plugin-ds'}},"
                + "'template':{'spec':{'nodeSelector':{'nvidia.com/gpu.present':'true','kubernetes.io/os':'linux'},"
                + "'containers':[{'name':'ctr','image':'nvcr.io/nvidia/k8s-device-plugin:v0.17.4'}]}}},"
                + "'status':{'currentNumberScheduled':2,'numberMisscheduled':0,'desiredNumberScheduled':3,"
                + "'numberReady':1,'updatedNumberScheduled':2,'numberAvailable':1}}").replace('\'', '"'));
        ObjectNode t = Tables.table(ApiResources.find("apps", "v1", "daemonsets"), List.of(ds), "5", null, NOW,
                "meta.k8s.io/v1");
        assertThat(t.path("columnDefinitions").valueStream().map(c -> c.path("name").asString() + ":"
                + c.path("type").asString() + ":" + c.path("priority").asInt()).toList()).containsExactly(
                "Name:string:0", "Desired:integer:0", "Current:integer:0", "Ready:integer:0", "Up-to-date:integer:0",
                "Available:integer:0", "Node Selector:string:0", "Age:string:0", "Containers:string:1",
                "Images:string:1", "Selector:string:1");
        assertThat(J(t.path("rows").get(0).path("cells"))).isEqualTo("[\"nvidia-device-plugin-daemonset\",3,2,1,2,1,"
                + "\"kubernetes.io/os=linux,nvidia.com/gpu.present=true\",\"2m\",\"ctr\","
                + "\"nvcr.io/nvidia/k8s-device-plugin:v0.17.4\",\"name=nvidia-device-plugin-ds\"]");
    }

    private static String J(JsonNode n) {
        return Json.write(n);
    }

    @Test
    void deploymentAndReplicaSetRowsArePrintersOnes() {
        ObjectNode d = Json.parseObject(("{'metadata':{'name':'web','creationTimestamp':'2026-11-28T17:58:00Z'},"
                + "'spec':{'replicas':4,'selector':{'matchLabels':{'app':'web'}},'template':{'spec':{'containers':["
                + "{'name':'nginx','image':'nginx:1.27'},{'name':'sidecar','image':'busybox'}]}}},"
                + "'status':{'replicas':5,'updatedReplicas':2,'readyReplicas':3,'availableReplicas':3}}")
                .replace('\'', '"'));
        ObjectNode t = Tables.table(ApiResources.find("apps", "v1", "deployments"), List.of(d), "5", null, NOW,
                "meta.k8s.io/v1");
        assertThat(t.path("columnDefinitions").valueStream().map(c -> c.path("name").asString()).toList())
                .containsExactly("Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images",
                        "Selector");
        assertThat(t.path("rows").get(0).path("cells").valueStream().map(JsonNode::asString).toList())
                .containsExactly("web", "3/4", "2", "3", "2m", "nginx,sidecar", "nginx:1.27,busybox", "app=web");
        assertThat(t.path("rows").get(0).path("cells").get(2).isInt()).isTrue();

        ObjectNode rs = Json.parseObject(("{'metadata':{'name':'web-7d9f8c6b5','creationTimestamp':"
                + "'2026-11-28T17:58:00Z'},'spec':{'replicas':2,'selector':{'matchLabels':{'app':'web',"
                + "'pod-template-hash':'7d9f8c6b5'}},'template':{'spec':{'containers':[{'name':'nginx',"
                + "'image':'nginx:1.27'}]}}},'status':{'replicas':3}}").replace('\'', '"'));
        ObjectNode r = Tables.table(ApiResources.find("apps", "v1", "replicasets"), List.of(rs), "5", null, NOW,
                "meta.k8s.io/v1");
        assertThat(r.path("columnDefinitions").valueStream().map(c -> c.path("name").asString()).toList())
                .containsExactly("Name", "Desired", "Current", "Ready", "Age", "Containers", "Images", "Selector");
        assertThat(r.path("rows").get(0).path("cells").valueStream().map(JsonNode::asString).toList())
                .containsExactly("web-7d9f8c6b5", "2", "3", "0", "2m", "nginx", "nginx:1.27",
                        "app=web,pod-template-hash=7d9f8c6b5");
    }
}
