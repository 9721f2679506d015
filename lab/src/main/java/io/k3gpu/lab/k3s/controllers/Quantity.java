package io.k3gpu.lab.k3s.controllers;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * Kubernetes resource quantities ({@code 500m}, {@code 2}, {@code 1.5}, {@code 512Mi}, {@code 1G}, {@code 1e3}) as
 * the scheduler counts them: CPU in millicores, everything else in units rounded up.
 */
final class Quantity {
    private Quantity() {
    }

    static BigDecimal parse(String q) {
        if (q == null) {
            return BigDecimal.ZERO;
        }
        String s = q.strip();
        if (s.isEmpty()) {
            return BigDecimal.ZERO;
        }
        String[][] binary = {{"Ki", "1"}, {"Mi", "2"}, {"Gi", "3"}, {"Ti", "4"}, {"Pi", "5"}, {"Ei", "6"}};
        for (String[] b : binary) {
            if (s.endsWith(b[0])) {
                return new BigDecimal(s.substring(0, s.length() - 2))
                        .multiply(BigDecimal.valueOf(1024).pow(Integer.parseInt(b[1])));
            }
        }
        char last = s.charAt(s.length() - 1);
        int exp = switch (last) {
            case 'n' -> -9;
            case 'u' -> -6;
            case 'm' -> -3;
            case 'k' -> 3;
            case 'M' -> 6;
            case 'G' -> 9;
            case 'T' -> 12;
            case 'P' -> 15;
            case 'E' -> 18;
            default -> 0;
        };
        if (exp != 0 || last == 'n' || last == 'u' || last == 'm') {
            return new BigDecimal(s.substring(0, s.length() - 1)).scaleByPowerOfTen(exp);
        }
        return new BigDecimal(s.replace('E', 'e'));
    }

    /** Millicores ({@code 500m} → 500, {@code 2} → 2000), rounded up. */
    static long milli(String q) {
        try {
            return parse(q).scaleByPowerOfTen(3).setScale(0, RoundingMode.CEILING).longValueExact();
        } catch (NumberFormatException | ArithmeticException e) {
            return 0;
        }
    }

    /** Whole units, rounded up ({@code 1Gi} → 1073741824, {@code 100m} → 1). */
    static long value(String q) {
        try {
            return parse(q).setScale(0, RoundingMode.CEILING).longValueExact();
        } catch (NumberFormatException | ArithmeticException e) {
            return 0;
        }
    }
}
