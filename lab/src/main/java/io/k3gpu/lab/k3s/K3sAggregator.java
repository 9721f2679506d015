package io.k3gpu.lab.k3s;

import java.time.Clock;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * kube-aggregator's AvailableConditionController (k8s.io/kube-aggregator/pkg/controllers/status, v1.31) for the
 * APIServices that name a Service: {@code status.conditions[Available]} is False with ServiceNotFound
 * ({@code service/<name> in "<ns>" is not present}), ServicePortError ({@code ... is not listening on port <port>}),
 * EndpointsNotFound ({@code cannot find endpoints for service/<name> in "<ns>"}) or MissingEndpoints
 * ({@code endpoints for service/<name> in "<ns>" have no addresses with port name "<port name>"}), else True with
 * Passed ({@code all checks passed}); a local APIService (no service) is Available with Local. The aggregator serves
 * a group only while its APIService is Available ({@link ApiHandler}: 503 "service unavailable" otherwise, as its
 * proxy handler answers). Lab differences: run on changes to APIServices, Services and Endpoints (K3sServer#deployAddons) and once a minute; the discovery request to the service is not made.
 */
final class K3sAggregator {
    private final K3sServer.ApiClient api;
    private final Clock clock;

    K3sAggregator(K3sServer.ApiClient api, Clock clock) {
        this.api = api;
        this.clock = clock;
    }

    void sync() {
        ApiHandler.Response list = api.call("GET", "/apis/apiregistration.k8s.io/v1/apiservices", null, null);
        if (list.status() != 200) {
            return;
        }
        for (JsonNode s : Json.parse(list.bodyText()).path("items")) {
            String[] c = condition(s.path("spec").path("service"));
            JsonNode current = null;
            for (JsonNode cond : s.path("status").path("conditions")) {
                if (cond.path("type").asString("").equals("Available")) {
                    current = cond;
                }
            }
            if (current != null && current.path("status").asString("").equals(c[0])
                    && current.path("reason").asString("").equals(c[1])
                    && current.path("message").asString("").equals(c[2])) {
                continue;
            }
            ObjectNode patch = Json.object();
            ObjectNode cond = Json.objectAt(patch, "status").putArray("conditions").addObject();
            cond.put("type", "Available").put("status", c[0]).put("reason", c[1]).put("message", c[2]);
            cond.put("lastTransitionTime", current != null && current.path("status").asString("").equals(c[0])
                    ? current.path("lastTransitionTime").asString("")
                    : clock.instant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
            api.call("PATCH", "/apis/apiregistration.k8s.io/v1/apiservices/" + Json.text(s, "metadata.name")
                    + "/status", "application/merge-patch+json", Json.write(patch));
        }
    }

    /** {status, reason, message} of the Available condition. */
    private String[] condition(JsonNode ref) {
        if (ref.isMissingNode() || ref.isNull()) {
            return new String[] {"True", "Local", "Local APIServices are always available"};
        }
        String ns = ref.path("namespace").asString("");
        String name = ref.path("name").asString("");
        int port = ref.path("port").asInt(443);
        String who = "service/" + name + " in \"" + ns + "\"";
        ApiHandler.Response svc = api.call("GET", "/api/v1/namespaces/" + ns + "/services/" + name, null, null);
        if (svc.status() != 200) {
            return new String[] {"False", "ServiceNotFound", who + " is not present"};
        }
        String portName = null;
        for (JsonNode p : Json.parse(svc.bodyText()).path("spec").path("ports")) {
            if (p.path("port").asInt() == port) {
                portName = p.path("name").asString("");
            }
        }
        if (portName == null) {
            return new String[] {"False", "ServicePortError", who + " is not listening on port " + port};
        }
        ApiHandler.Response ep = api.call("GET", "/api/v1/namespaces/" + ns + "/endpoints/" + name, null, null);
        if (ep.status() != 200) {
            return new String[] {"False", "EndpointsNotFound", "cannot find endpoints for " + who};
        }
        for (JsonNode subset : Json.parse(ep.bodyText()).path("subsets")) {
            boolean named = false;
            for (JsonNode p : subset.path("ports")) {
                named |= p.path("name").asString("").equals(portName);
            }
            if (named && subset.path("addresses").size() > 0) {
                return new String[] {"True", "Passed", "all checks passed"};
            }
        }
        return new String[] {"False", "MissingEndpoints", "endpoints for " + who
                + " have no addresses with port name \"" + portName + "\""};
    }

    /** Whether the APIService for group/version exists (404 otherwise) and is Available (503 otherwise). */
    static int state(ApiStore store, String apiService) {
        ApiStore.Result r = store.call("GET", "/apis/apiregistration.k8s.io/v1/apiservices/" + apiService, null, null);
        if (!r.ok() || r.body() == null) {
            return 404;
        }
        for (JsonNode cond : Json.parse(r.body()).path("status").path("conditions")) {
            if (cond.path("type").asString("").equals("Available")) {
                return cond.path("status").asString("").equals("True") ? 200 : 503;
            }
        }
        return 503;
    }
}
