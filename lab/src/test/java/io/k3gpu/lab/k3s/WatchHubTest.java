package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The window of kept events: a watch from a version still kept replays what came after, an older one is Gone. */
class WatchHubTest {
    static WatchHub.Event event(long rv) {
        return new WatchHub.Event(rv, "ADDED", ApiResources.find("", "v1", "configmaps"),
                Json.parseObject("{\"metadata\":{\"name\":\"c" + rv + "\",\"namespace\":\"default\"}}"), null);
    }

    @Test
    void replaysAfterAVersionAndRefusesOnesThatFellOutOfTheWindow() {
        WatchHub hub = new WatchHub();
        for (long rv = 1; rv <= WatchHub.WINDOW + 1; rv++) {
            hub.publish(event(rv));
        }
        assertThat(hub.latest()).isEqualTo(WatchHub.WINDOW + 1);
        List<WatchHub.Event> live = new ArrayList<>();
        List<WatchHub.Event> replay = hub.subscribe(new WatchHub.Subscription(e -> e, live::add), WatchHub.WINDOW - 1);
        assertThat(replay).extracting(WatchHub.Event::resourceVersion).containsExactly((long) WatchHub.WINDOW,
                WatchHub.WINDOW + 1L);
        hub.publish(event(WatchHub.WINDOW + 2));
        assertThat(live).extracting(WatchHub.Event::resourceVersion).containsExactly(WatchHub.WINDOW + 2L);
        // events 1 and 2 are gone now: a watch from 1 would miss 2
        assertThatThrownBy(() -> hub.subscribe(new WatchHub.Subscription(e -> e, e -> { }), 1))
                .isInstanceOf(WatchHub.TooOldException.class).hasMessage("too old resource version: 1 (2)");
    }
}
