package io.k3gpu.lab.k3s;

import java.util.ArrayList;
import java.util.List;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The "self" reviews kubectl asks about its own identity: {@code kubectl auth can-i} (SelfSubjectAccessReview and,
 * with {@code --list}, SelfSubjectRulesReview, authorization.k8s.io/v1) and {@code kubectl auth whoami}
 * (SelfSubjectReview, authentication.k8s.io/v1), answered from the identity the listener authenticated
 * (pkg/registry/authorization/selfsubjectaccessreview/rest.go, selfsubjectrulesreview/rest.go,
 * pkg/registry/authentication/selfsubjectreview/rest.go, v1.31). The lab's server authorizes every authenticated
 * request (it has no RBAC or Node authorizer), so every review says allowed — which is what K3s says for its admin
 * kubeconfig (group {@code system:masters}, allowed by the privileged-group authorizer with no reason), and more than
 * K3s would grant a node or a user RBAC limits.
 */
final class Reviews {
    static final String ACCESS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    static final String RULES = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews";
    static final String WHOAMI = "/apis/authentication.k8s.io/v1/selfsubjectreviews";

    private Reviews() {
    }

    static boolean handles(String method, String path) {
        return method.equals("POST") && List.of(ACCESS, RULES, WHOAMI).contains(path.replaceAll("/+$", ""));
    }

    /** The answer (201 and the review with its status), or 400 when the body is not a review. */
    static ApiHandler.Response answer(String path, String body, String user, List<String> groups) {
        ObjectNode review;
        try {
            review = Json.parseObject(body);
        } catch (RuntimeException e) {
            return ApiHandler.status(400, "BadRequest", "the request body is not a review", null);
        }
        ObjectNode out = Json.object();
        switch (path.replaceAll("/+$", "")) {
            case ACCESS -> {
                out.put("kind", "SelfSubjectAccessReview");
                out.put("apiVersion", "authorization.k8s.io/v1");
                out.putObject("metadata").putNull("creationTimestamp");
                out.set("spec", review.path("spec").isObject() ? review.get("spec") : Json.object());
                JsonNode attrs = review.path("spec");
                if (!attrs.path("resourceAttributes").isObject() && !attrs.path("nonResourceAttributes").isObject()) {
                    return ApiHandler.status(422, "Invalid", "SelfSubjectAccessReview.authorization.k8s.io \"\" is "
                            + "invalid: spec.resourceAttributes: Invalid value: \"null\": exactly one of "
                            + "nonResourceAttributes or resourceAttributes must be specified", null);
                }
                out.putObject("status").put("allowed", true);
            }
            case RULES -> {
                out.put("kind", "SelfSubjectRulesReview");
                out.put("apiVersion", "authorization.k8s.io/v1");
                out.putObject("metadata").putNull("creationTimestamp");
                out.set("spec", review.path("spec").isObject() ? review.get("spec") : Json.object());
                ObjectNode status = out.putObject("status");
                ObjectNode rule = status.putArray("resourceRules").addObject();
                rule.putArray("verbs").add("*");
                rule.putArray("apiGroups").add("*");
                rule.putArray("resources").add("*");
                ObjectNode nonResource = status.putArray("nonResourceRules").addObject();
                nonResource.putArray("verbs").add("*");
                nonResource.putArray("nonResourceURLs").add("*");
                status.put("incomplete", false);
            }
            default -> {
                out.put("kind", "SelfSubjectReview");
                out.put("apiVersion", "authentication.k8s.io/v1");
                out.putObject("metadata").putNull("creationTimestamp");
                ObjectNode info = out.putObject("status").putObject("userInfo");
                info.put("username", user);
                List<String> all = new ArrayList<>(groups);
                if (!all.contains("system:authenticated")) {
                    all.add("system:authenticated"); // the authenticator's group for everyone it knows
                }
                all.forEach(info.putArray("groups")::add);
            }
        }
        return ApiHandler.Response.json(201, out);
    }
}
