package io.k3gpu.lab.k3s;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Where the simulated server keeps the cluster's objects, chosen as K3s chooses its datastore: embedded SQLite
 * ({@code <data-dir>/server/db/state.db}) by default; embedded etcd ({@code <data-dir>/server/db/etcd}) with
 * {@code --cluster-init}, when joining a server, or when etcd was initialized before (its {@code member/wal}
 * directory exists: a restart without the flag stays on etcd). {@code --cluster-init} on a server that has a
 * state.db migrates it, as K3s does since v1.22: the objects move to etcd and state.db is renamed state.db.migrated.
 * Only the server that stores the objects writes them (an extra server forwards the API to the first one, so its
 * etcd directory holds its member name only). Written as objects change (at most once a second) and when the
 * server stops; read back at start, so a restart keeps Nodes, workloads, labels and tokens.
 *
 * <p>The files are the lab's, not SQLite's nor etcd's: one JSON object a line, at K3s's paths.
 */
final class Datastore implements AutoCloseable {
    enum Kind { SQLITE, ETCD }

    private final Kind kind;
    private final Path file;
    private final Path migrateFrom;
    private final K3sLog log;
    private ScheduledExecutorService writer;
    private ApiStore store;
    private long written = -1;

    private Datastore(Kind kind, Path file, Path migrateFrom, K3sLog log) {
        this.kind = kind;
        this.file = file;
        this.migrateFrom = migrateFrom;
        this.log = log;
    }

    /**
     * The datastore of the server with data directory {@code dataDir}.
     *
     * @param joining  an extra server joining with --server (its objects live on the server it joins)
     * @param nodeName for the etcd member's name, as K3s names it (node name, a dash, 8 hex digits)
     */
    static Datastore open(Path dataDir, boolean clusterInit, boolean joining, String nodeName, K3sLog log)
            throws IOException {
        Path db = dataDir.resolve("server/db");
        Path etcd = db.resolve("etcd");
        Path sqlite = db.resolve("state.db");
        boolean initialized = Files.isDirectory(etcd.resolve("member/wal"));
        if (!clusterInit && !joining && !initialized) {
            Files.createDirectories(db);
            log.info("Configuring sqlite3 database connection pooling: maxIdleConns=2, maxOpenConns=0, "
                    + "connMaxLifetime=0s");
            return new Datastore(Kind.SQLITE, sqlite, null, log);
        }
        if (initialized) {
            log.info("Managed etcd cluster bootstrap already complete and initialized");
        } else if (joining) {
            log.info("Managed etcd cluster not yet initialized");
        } else {
            log.info("Managed etcd cluster initializing");
        }
        Files.createDirectories(etcd.resolve("member/wal"));
        Files.createDirectories(etcd.resolve("member/snap"));
        K3sPki.setMode(etcd, "rwx------");
        Path name = etcd.resolve("name");
        if (!Files.exists(name)) {
            Files.writeString(name, nodeName + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()));
        }
        Path migrate = !initialized && !joining && Files.isRegularFile(sqlite) ? sqlite : null;
        return new Datastore(Kind.ETCD, etcd.resolve("member/snap/db"), migrate, log);
    }

    Kind kind() {
        return kind;
    }

    /** The objects stored before (a migration reads them from state.db); empty on a first start. */
    List<String> load() throws IOException {
        Path from = migrateFrom != null ? migrateFrom : file;
        if (!Files.isRegularFile(from)) {
            return List.of();
        }
        if (migrateFrom != null) {
            log.info("Migrating content from sqlite to etcd");
        }
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(from, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                out.add(line);
            }
        }
        return out;
    }

    /**
     * Writes {@code store} now (which completes a migration: state.db becomes state.db.migrated), then whenever it
     * changed, at most once a second, until {@link #close}.
     */
    void persist(ApiStore store) throws IOException {
        this.store = store;
        write();
        if (migrateFrom != null) {
            Files.move(migrateFrom, migrateFrom.resolveSibling(migrateFrom.getFileName() + ".migrated"),
                    StandardCopyOption.REPLACE_EXISTING);
        }
        writer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "k3s-datastore");
            t.setDaemon(true);
            return t;
        });
        writer.scheduleWithFixedDelay(() -> {
            try {
                write();
            } catch (IOException | UncheckedIOException e) {
                log.error("Failed to write the datastore " + file + ": " + e.getMessage());
            }
        }, 1, 1, TimeUnit.SECONDS);
    }

    private synchronized void write() throws IOException {
        long changes = store.changes();
        if (changes == written) {
            return;
        }
        Collection<String> objects = store.objects();
        StringBuilder sb = new StringBuilder();
        objects.forEach(o -> sb.append(o.replace('\n', ' ')).append('\n'));
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, sb.toString(), StandardCharsets.UTF_8);
        K3sPki.setMode(tmp, "rw-------");
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
        written = changes;
    }

    /** Stops writing, after a last write of what changed. */
    @Override
    public void close() {
        if (writer == null) {
            return;
        }
        writer.shutdownNow();
        try {
            writer.awaitTermination(5, TimeUnit.SECONDS);
            write();
        } catch (IOException e) {
            log.error("Failed to write the datastore " + file + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
