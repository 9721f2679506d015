package io.k3gpu.lab.k3s;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

import io.k3gpu.lab.k3s.controllers.KubeApi;

/**
 * The controllers' view of this server ({@link KubeApi}): requests through the {@link ApiHandler} in-process, the
 * {@link ApiStore} underneath, and every change from the {@link WatchHub}.
 */
final class ControllerBridge implements KubeApi {
    private final ApiHandler handler;
    private final ApiStore store;
    private final WatchHub hub;

    ControllerBridge(ApiHandler handler, ApiStore store, WatchHub hub) {
        this.handler = handler;
        this.store = store;
        this.hub = hub;
    }

    @Override
    public Result call(String method, String path, String contentType, String body) {
        int q = path.indexOf('?');
        Map<String, String> headers = new HashMap<>();
        // kube-controller-manager runs inside the k3s process: its writes are managed by "k3s" as on K3s
        headers.put("user-agent", "k3s");
        if (contentType != null) {
            headers.put("content-type", contentType);
        }
        ApiHandler.Response r = handler.handle(new ApiHandler.Request(method, q >= 0 ? path.substring(0, q) : path,
                q >= 0 ? path.substring(q + 1) : null, headers,
                body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8)));
        return new Result(r.status(), r.bodyText());
    }

    @Override
    public Result store(String method, String path, String contentType, String body) {
        ApiStore.Result r = store.call(method, path, contentType, body);
        return new Result(r.code(), r.body());
    }

    @Override
    public AutoCloseable watch(Consumer<Change> listener) {
        WatchHub.Subscription s = new WatchHub.Subscription(e -> e, e -> listener.accept(new Change(e.type(),
                e.resource().groupVersion(), e.resource().kind(), e.object(), e.previous())));
        hub.subscribe(s, 0);
        return () -> hub.unsubscribe(s);
    }
}
