package io.k3gpu.core.remote;

/**
 * Shell commands that read and replace files on a node without ever leaving them half-written. Pure; each is
 * golden-tested. The content always travels on stdin, never on the command line.
 */
public final class RemoteFileCommands {
    /** Exit status of {@link #read(String)} when the file does not exist. */
    public static final int ABSENT = 44;
    /** Exit status of an upload command when what arrived is not what was sent (see {@link #receive}). */
    public static final int REFUSED = 45;

    private RemoteFileCommands() {
    }

    /** Prints the file, or exits {@value #ABSENT} when there is none. */
    public static String read(String path) {
        String f = Shell.quote(path);
        return "if [ -f " + f + " ]; then cat -- " + f + "; else exit " + ABSENT + "; fi";
    }

    /**
     * Writes an {@link Upload} (header line, then content, on stdin) to {@code path} atomically: a temporary file in
     * the same directory (same filesystem), checked by {@link #receive}, given the old file's mode and owner (or
     * {@code newFileMode} for a new file), flushed, then renamed over the target. On any failure, a cut upload
     * included, the temporary file is removed and the target is untouched.
     */
    public static String atomicWrite(String path, String newFileMode) {
        String f = Shell.quote(path);
        return "set -e; f=" + f + "; mkdir -p -- \"$(dirname -- \"$f\")\"; "
                + "t=$(mktemp \"$f.k3gpu.XXXXXX\"); trap 'rm -f -- \"$t\"' EXIT; trap 'exit 1' HUP INT TERM; "
                + receive("\"$t\"", "$f") + "; "
                + "if [ -e \"$f\" ]; then chmod --reference=\"$f\" -- \"$t\"; chown --reference=\"$f\" -- \"$t\"; "
                + "else chmod " + newFileMode + " -- \"$t\"; fi; "
                + "sync -- \"$t\" 2>/dev/null || true; mv -f -- \"$t\" \"$f\"; trap - EXIT";
    }

    /**
     * Reads an {@link Upload} from stdin into {@code file} (a shell word) and exits {@value #REFUSED}, the file
     * removed, unless exactly the announced bytes arrived: {@code cat} ends at EOF with status 0 however early the
     * link was cut, so only the count and the hash tell. The file is removed before the message is printed, which
     * may meet a closed stderr. {@code label} names the upload in the message (inside double quotes).
     */
    public static String receive(String file, String label) {
        String refuse = "then rm -f -- " + file + "; echo \"k3gpu: " + label + ": ";
        return "read -r n h || true; cat > " + file + "; s=$(wc -c < " + file + "); "
                + "if [ \"$s\" != \"$n\" ]; " + refuse + "only $s of $n bytes arrived (the upload was cut); "
                + "nothing was changed\" >&2; exit " + REFUSED + "; fi; "
                + "c=$(sha256sum < " + file + "); "
                + "if [ \"${c%% *}\" != \"$h\" ]; " + refuse + "the bytes that arrived are not those sent (SHA-256 "
                + "differs); nothing was changed\" >&2; exit " + REFUSED + "; fi";
    }

    /**
     * Copies {@code path} to {@code backup}, keeping mode, owner and timestamps, through a temporary file beside it,
     * so that a copy that fails half-way (a full disk) leaves no partial backup behind; refuses to overwrite a
     * backup.
     */
    public static String backup(String path, String backup) {
        String b = Shell.quote(backup);
        return "set -e; t=$(mktemp " + Shell.quote(path + ".k3gpu.XXXXXX") + "); trap 'rm -f -- \"$t\"' EXIT; "
                + "trap 'exit 1' HUP INT TERM; cp -p -- " + Shell.quote(path) + " \"$t\"; [ ! -e " + b + " ]; "
                + "mv -- \"$t\" " + b + "; trap - EXIT";
    }

    /** Puts a backup back in place atomically (copy beside the target, then rename), byte for byte. */
    public static String restore(String backup, String path) {
        String f = Shell.quote(path);
        String b = Shell.quote(backup);
        return "set -e; t=$(mktemp " + Shell.quote(path + ".k3gpu.XXXXXX") + "); trap 'rm -f -- \"$t\"' EXIT; "
                + "trap 'exit 1' HUP INT TERM; cp -p -- " + b + " \"$t\"; mv -f -- \"$t\" " + f + "; trap - EXIT";
    }

    /** Removes a file that a failed change created where none existed before. */
    public static String remove(String path) {
        return "rm -f -- " + Shell.quote(path);
    }
}
