package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.node.ObjectNode;

class StrategicMergePatchTest {
    private static ObjectNode obj(String json) {
        return Json.parseObject(json.replace('\'', '"'));
    }

    @Test
    void containersMergeByNameAndUntouchedOnesStay() {
        ObjectNode pod = obj("{'spec':{'containers':[{'name':'a','image':'x:1'},{'name':'b','image':'y:1'}]}}");
        ObjectNode patched = StrategicMergePatch.apply(pod, obj("{'$setElementOrder/containers':[{'name':'a'},"
                + "{'name':'b'}],'spec':{'containers':[{'name':'b','image':'y:2'}]}}"));
        assertThat(Json.write(patched)).isEqualTo(Json.write(obj(
                "{'spec':{'containers':[{'name':'a','image':'x:1'},{'name':'b','image':'y:2'}]}}")));
    }

    @Test
    void labelsMergeAndNullRemoves() {
        ObjectNode node = obj("{'metadata':{'labels':{'a':'1','b':'2'}}}");
        ObjectNode patched = StrategicMergePatch.apply(node, obj("{'metadata':{'labels':{'a':null,'c':'3'}}}"));
        assertThat(Json.write(patched)).isEqualTo("{\"metadata\":{\"labels\":{\"b\":\"2\",\"c\":\"3\"}}}");
    }

    @Test
    void patchDirectivesDeleteAndReplace() {
        ObjectNode pod = obj("{'spec':{'containers':[{'name':'a'},{'name':'b'}],'env':{'x':1}}}");
        ObjectNode deleted = StrategicMergePatch.apply(pod, obj("{'spec':{'containers':[{'name':'a','$patch':"
                + "'delete'}]}}"));
        assertThat(deleted.path("spec").path("containers")).hasSize(1);
        ObjectNode replaced = StrategicMergePatch.apply(pod, obj("{'spec':{'containers':[{'$patch':'replace'},"
                + "{'name':'c'}]}}"));
        assertThat(Json.write(replaced.path("spec").path("containers"))).isEqualTo("[{\"name\":\"c\"}]");
    }

    @Test
    void listsWithoutMergeKeyAreReplacedAndFinalizersUnite() {
        ObjectNode pod = obj("{'spec':{'tolerations':[{'key':'a'}]},'metadata':{'finalizers':['x']}}");
        ObjectNode patched = StrategicMergePatch.apply(pod, obj("{'spec':{'tolerations':[{'key':'b'}]},"
                + "'metadata':{'finalizers':['y']}}"));
        assertThat(Json.write(patched.path("spec").path("tolerations"))).isEqualTo("[{\"key\":\"b\"}]");
        assertThat(Json.write(patched.path("metadata").path("finalizers"))).isEqualTo("[\"x\",\"y\"]");
    }

    @Test
    void mergePatchReplacesListsAsRfc7386Says() {
        ObjectNode node = obj("{'status':{'conditions':[{'type':'Ready','status':'False'}],'capacity':{'cpu':'2'}}}");
        ObjectNode patched = StrategicMergePatch.mergePatch(node, obj("{'status':{'conditions':[{'type':'Ready',"
                + "'status':'True'}]}}"));
        assertThat(Json.write(patched)).isEqualTo(Json.write(obj(
                "{'status':{'conditions':[{'type':'Ready','status':'True'}],'capacity':{'cpu':'2'}}}")));
    }
}
