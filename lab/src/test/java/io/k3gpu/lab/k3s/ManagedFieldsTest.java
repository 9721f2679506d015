package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.node.ObjectNode;

class ManagedFieldsTest {
    private static final Instant T1 = Instant.parse("2026-12-05T10:00:00.250Z");
    private static final Instant T2 = Instant.parse("2026-12-05T11:00:00Z");

    private static ObjectNode obj(String json) {
        return Json.parseObject(json.replace('\'', '"'));
    }

    private static final String DEPLOY = "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web',"
            + "'namespace':'default','labels':{'app':'web'}},'spec':{'replicas':2,'selector':{'matchLabels':"
            + "{'app':'web'}},'template':{'metadata':{'labels':{'app':'web'}},'spec':{'containers':[{'name':'nginx',"
            + "'image':'nginx:1.27','ports':[{'containerPort':80}],'env':[{'name':'A','value':'1'}],"
            + "'args':['-g','x'],'resources':{}}]}}}}";

    @Test
    void fieldsV1OfAnAppliedDeploymentIsTheRealFormat() {
        // what kube-apiserver records for `kubectl apply --server-side` of this Deployment (typed.ToFieldSet):
        // struct fields with content are not members, list items are (hence "."), ports are keyed with the default
        // protocol, the selector (+structType=atomic) and args (atomic list) are leaves, name/namespace are stripped
        String golden = "{'f:metadata':{'f:labels':{'f:app':{}}},'f:spec':{'f:replicas':{},'f:selector':{},"
                + "'f:template':{'f:metadata':{'f:labels':{'f:app':{}}},'f:spec':{'f:containers':{"
                + "'k:{\\'name\\':\\'nginx\\'}':{'.':{},'f:args':{},'f:env':{'k:{\\'name\\':\\'A\\'}':{'.':{},"
                + "'f:name':{},'f:value':{}}},'f:image':{},'f:name':{},'f:ports':{"
                + "'k:{\\'containerPort\\':80,\\'protocol\\':\\'TCP\\'}':{'.':{},'f:containerPort':{}}},"
                + "'f:resources':{}}}}}}}";
        assertThat(Json.write(ManagedFields.fieldSet(obj(DEPLOY), false).toFieldsV1()))
                .isEqualTo(golden.replace("\\'", "\\\"").replace('\'', '"'));
    }

    @Test
    void fieldsV1RoundTripsAndPathsPrintAsFieldpathDoes() {
        ManagedFields.FieldSet set = ManagedFields.fieldSet(obj(DEPLOY), false);
        assertThat(ManagedFields.FieldSet.fromFieldsV1(set.toFieldsV1())).isEqualTo(set);
        assertThat(set.describe()).contains(".spec.replicas",
                ".spec.template.spec.containers[name=\"nginx\"].image",
                ".spec.template.spec.containers[name=\"nginx\"].ports[containerPort=80,protocol=\"TCP\"]");
    }

    @Test
    void finalizersAreASetAndStatusIsNotOwnedThroughTheMainResource() {
        ObjectNode o = obj("{'metadata':{'finalizers':['a/b'],'uid':'u','resourceVersion':'3'},'status':{'x':1},"
                + "'data':{'k':'v'}}");
        assertThat(Json.write(ManagedFields.fieldSet(o, false).toFieldsV1()))
                .isEqualTo("{\"f:data\":{\"f:k\":{}},\"f:metadata\":{\"f:finalizers\":{\"v:\\\"a/b\\\"\":{}}}}");
        assertThat(Json.write(ManagedFields.fieldSet(o, true).toFieldsV1())).isEqualTo("{\"f:status\":{\"f:x\":{}}}");
    }

    @Test
    void anUpdateOwnsWhatItChangedAndTakesItFromOthers() {
        ObjectNode created = obj("{'metadata':{'name':'c'},'data':{'a':'1','b':'2'}}");
        ManagedFields.update(null, created, "kubectl-create", "v1", null, T1);
        assertThat(Json.write(created.path("metadata").path("managedFields"))).isEqualTo("[{\"manager\":"
                + "\"kubectl-create\",\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time\":\"2026-12-05T10:00:00Z\","
                + "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:data\":{\"f:a\":{},\"f:b\":{}}}}]");
        ObjectNode edited = created.deepCopy();
        ((ObjectNode) edited.get("data")).put("b", "3");
        ManagedFields.update(created, edited, "kubectl-edit", "v1", null, T2);
        List<ManagedFields.Entry> entries = ManagedFields.read(edited);
        assertThat(entries).extracting(ManagedFields.Entry::manager).containsExactly("kubectl-create", "kubectl-edit");
        assertThat(entries.get(0).fields().describe()).containsExactly(".data.a");
        assertThat(entries.get(1).fields().describe()).containsExactly(".data.b");
        assertThat(entries.get(1).time()).isEqualTo("2026-12-05T11:00:00Z");
    }

    @Test
    void applyConflictsWithAnotherManagersValueUnlessForced() {
        ObjectNode live = obj(DEPLOY);
        Json.objectAt(live, "metadata").put("uid", "u1");
        ManagedFields.update(null, live, "kubectl-client-side-apply", "apps/v1", null, T1);
        ObjectNode config = obj(DEPLOY);
        ((ObjectNode) config.get("spec")).put("replicas", 3);
        assertThatThrownBy(() -> ManagedFields.apply(live, config, "kubectl", "apps/v1", false, T2))
                .isInstanceOf(ManagedFields.Conflict.class)
                .hasMessage("Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: "
                        + ".spec.replicas");
        ObjectNode forced = ManagedFields.apply(live, config, "kubectl", "apps/v1", true, T2);
        assertThat(forced.path("spec").path("replicas").asInt()).isEqualTo(3);
        List<ManagedFields.Entry> entries = ManagedFields.read(forced);
        assertThat(entries.get(0).operation()).isEqualTo("Apply");
        assertThat(entries.get(0).fields().describe()).contains(".spec.replicas");
        assertThat(entries.get(1).manager()).isEqualTo("kubectl-client-side-apply");
        assertThat(entries.get(1).fields().describe()).doesNotContain(".spec.replicas").contains(".spec.selector");
    }

    @Test
    void applyingTheSameValuesSharesOwnershipWithoutConflict() {
        ObjectNode live = obj(DEPLOY);
        ManagedFields.update(null, live, "kubectl-client-side-apply", "apps/v1", null, T1);
        ObjectNode applied = ManagedFields.apply(live, obj(DEPLOY), "kubectl", "apps/v1", false, T2);
        List<ManagedFields.Entry> entries = ManagedFields.read(applied);
        assertThat(entries.get(0).fields().describe()).contains(".spec.replicas");
        assertThat(entries.get(1).fields().describe()).contains(".spec.replicas");
    }

    @Test
    void fieldsAnApplierStopsSendingAreRemovedUnlessSomeoneElseOwnsThem() {
        ObjectNode cm = obj("{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'c'},'data':{'a':'1','b':'2'}}");
        ObjectNode first = ManagedFields.apply(cm, cm.deepCopy(), "mgr", "v1", false, T1);
        ObjectNode second = ManagedFields.apply(first, obj("{'apiVersion':'v1','kind':'ConfigMap','metadata':"
                + "{'name':'c'},'data':{'a':'1'}}"), "mgr", "v1", false, T2);
        assertThat(Json.write(second.get("data"))).isEqualTo("{\"a\":\"1\"}");

        ObjectNode shared = first.deepCopy();
        ManagedFields.update(null, shared, "other", "v1", null, T1);
        ObjectNode kept = ManagedFields.apply(shared, obj("{'apiVersion':'v1','kind':'ConfigMap','metadata':"
                + "{'name':'c'},'data':{'a':'1'}}"), "mgr", "v1", false, T2);
        assertThat(Json.write(kept.get("data"))).isEqualTo("{\"a\":\"1\",\"b\":\"2\"}");
    }

    @Test
    void reApplyingUnchangedKeepsTheTimeAndTheObject() {
        ObjectNode cm = obj("{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'c'},'data':{'a':'1'}}");
        ObjectNode first = ManagedFields.apply(cm, cm.deepCopy(), "mgr", "v1", false, T1);
        ObjectNode again = ManagedFields.apply(first, cm.deepCopy(), "mgr", "v1", false, T2);
        assertThat(again).isEqualTo(first);
    }

    @Test
    void kubectlsFirstServerSideApplyOverItsClientSideApplyDoesNotConflict() {
        ObjectNode live = obj(DEPLOY);
        Json.objectAt(Json.objectAt(live, "metadata"), "annotations").put(ManagedFields.LAST_APPLIED,
                Json.write(obj(DEPLOY)) + "\n");
        ManagedFields.update(null, live, "kubectl-client-side-apply", "apps/v1", null, T1);
        ObjectNode config = obj(DEPLOY);
        ((ObjectNode) config.get("spec")).put("replicas", 4);
        assertThatThrownBy(() -> ManagedFields.apply(live, config, "ci", "apps/v1", false, T2))
                .isInstanceOf(ManagedFields.Conflict.class);
        ObjectNode applied = ManagedFields.apply(live, config, "kubectl", "apps/v1", false, T2);
        assertThat(applied.path("spec").path("replicas").asInt()).isEqualTo(4);
        assertThat(Json.parse(applied.path("metadata").path("annotations").path(ManagedFields.LAST_APPLIED)
                .asString()).path("spec").path("replicas").asInt()).isEqualTo(4);
    }
}
