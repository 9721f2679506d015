package io.k3gpu.lab.k3s;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * ServiceAccount tokens as the kubelet gets them for a pod's {@code /var/run/secrets/kubernetes.io/serviceaccount}:
 * {@code POST /api/v1/namespaces/<ns>/serviceaccounts/<sa>/token} (TokenRequest, authentication.k8s.io/v1) answers a
 * JWT with kube-apiserver's claims (iss {@code https://kubernetes.default.svc.cluster.local}, sub
 * {@code system:serviceaccount:<ns>:<sa>}, aud, exp, iat, nbf, {@code kubernetes.io}); a request with it as a Bearer
 * token authenticates as that user, in the groups {@code system:serviceaccounts},
 * {@code system:serviceaccounts:<ns>}. Lab differences: signed HS256 with a key derived from the cluster's client CA
 * key (kube-apiserver signs RS256 with the service-account key), the ServiceAccount need not exist, no pod binding.
 */
final class ServiceAccountTokens {
    static final Pattern TOKEN_PATH = Pattern.compile("/api/v1/namespaces/([^/]+)/serviceaccounts/([^/]+)/token");
    static final String ISSUER = "https://kubernetes.default.svc.cluster.local";
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private final byte[] key;

    ServiceAccountTokens(byte[] secret) {
        try {
            this.key = MessageDigest.getInstance("SHA-256").digest(secret);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The TokenRequest answer (201) for a request body, or null when the path is not a token request. */
    ApiHandler.Response answer(String path, String body, Instant now) {
        Matcher m = TOKEN_PATH.matcher(path);
        if (!m.matches()) {
            return null;
        }
        JsonNode req = body == null || body.isBlank() ? Json.object() : Json.parse(body);
        long seconds = Math.max(600, req.path("spec").path("expirationSeconds").asLong(3600));
        ObjectNode out = Json.object();
        out.put("kind", "TokenRequest");
        out.put("apiVersion", "authentication.k8s.io/v1");
        out.putObject("metadata").put("name", m.group(2)).put("namespace", m.group(1))
                .put("creationTimestamp", (String) null);
        ObjectNode spec = out.putObject("spec");
        spec.set("audiences", req.path("spec").path("audiences").isArray() && !req.path("spec").path("audiences")
                .isEmpty() ? req.path("spec").path("audiences") : Json.parse("[\"" + ISSUER + "\",\"k3s\"]"));
        spec.put("expirationSeconds", seconds);
        Instant exp = now.plusSeconds(seconds);
        out.putObject("status").put("token", issue(m.group(1), m.group(2), spec.path("audiences"), now, exp))
                .put("expirationTimestamp", exp.toString());
        return ApiHandler.Response.json(201, out);
    }

    String issue(String namespace, String sa, JsonNode audiences, Instant now, Instant exp) {
        ObjectNode claims = Json.object();
        claims.set("aud", audiences);
        claims.put("exp", exp.getEpochSecond());
        claims.put("iat", now.getEpochSecond());
        claims.put("iss", ISSUER);
        claims.putObject("kubernetes.io").put("namespace", namespace).putObject("serviceaccount").put("name", sa);
        claims.put("nbf", now.getEpochSecond());
        claims.put("sub", "system:serviceaccount:" + namespace + ":" + sa);
        String signed = B64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8))
                + "." + B64.encodeToString(Json.write(claims).getBytes(StandardCharsets.UTF_8));
        return signed + "." + B64.encodeToString(mac(signed));
    }

    /** The principal of a valid, unexpired token; null otherwise. */
    ApiListener.Principal verify(String token, Instant now) {
        String[] parts = token.split("\\.");
        if (parts.length != 3 || !MessageDigest.isEqual(B64.encodeToString(mac(parts[0] + "." + parts[1]))
                .getBytes(StandardCharsets.UTF_8), parts[2].getBytes(StandardCharsets.UTF_8))) {
            return null;
        }
        JsonNode claims;
        try {
            claims = Json.parse(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            return null;
        }
        if (claims.path("exp").asLong(0) < now.getEpochSecond()) {
            return null;
        }
        String ns = claims.path("kubernetes.io").path("namespace").asString("");
        return new ApiListener.Principal(claims.path("sub").asString(""), List.of("system:serviceaccounts",
                "system:serviceaccounts:" + ns, "system:authenticated"));
    }

    private byte[] mac(String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
