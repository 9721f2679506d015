package io.k3gpu.core.doctor;

/**
 * One diagnosis of {@code doctor}.
 *
 * @param id     stable name for machines ({@code kernel-config}, {@code swap}, ...)
 * @param title  what was checked, for people
 * @param status the verdict
 * @param detail what was found (node output in it is already reduced to the shapes the parser accepts)
 * @param fix    what to do; null on PASS and SKIP
 */
public record Check(String id, String title, Status status, String detail, String fix) {

    /** PASS: fine. WARN: works, with a cost or a risk. FAIL: K3s or the GPU will not work. SKIP: could not tell. */
    public enum Status { PASS, WARN, FAIL, SKIP }

    static Check pass(String id, String title, String detail) {
        return new Check(id, title, Status.PASS, detail, null);
    }

    static Check skip(String id, String title, String detail, String how) {
        return new Check(id, title, Status.SKIP, detail, how);
    }

    static Check warn(String id, String title, String detail, String fix) {
        return new Check(id, title, Status.WARN, detail, fix);
    }

    static Check fail(String id, String title, String detail, String fix) {
        return new Check(id, title, Status.FAIL, detail, fix);
    }
}
