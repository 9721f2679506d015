package io.k3gpu.lab;

/**
 * A login of every lab node. Each lab has: {@code root} (key only, no password), {@code k3gpu} (key and password,
 * {@code NOPASSWD} sudo) and {@code alice} (key and password; sudo asks for her password). Passwords are random per
 * lab and the same on every node; the lab key ({@link LabState#keyFile()}) is authorized for all three.
 *
 * @param name     login name
 * @param password its password, null for root
 * @param sudo     what sudo does for this user
 * @param uid      numeric uid (= gid of the user's own group) on the nodes
 */
public record LabUser(String name, String password, Sudo sudo, int uid) {
    public enum Sudo {
        /** the user is root */
        ROOT,
        /** {@code <user> ALL=(ALL) NOPASSWD: ALL} */
        NOPASSWD,
        /** {@code <user> ALL=(ALL) ALL}: sudo -n fails with "a password is required" */
        PASSWORD
    }

    public String home() {
        return "root".equals(name) ? "/root" : "/home/" + name;
    }
}
