package io.haraft.vip;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What {@link VipHolder#start()} reads from the local host besides running programs; replaced in tests. */
interface Host {

    /** Whether {@code path} is an executable regular file. */
    boolean isExecutable(Path path);

    /** The text of {@code /proc/self/status}, or empty if unreadable. */
    String procSelfStatus();

    /** The real host. */
    Host LOCAL = new Host() {
        @Override
        public boolean isExecutable(Path path) {
            return Files.isRegularFile(path) && Files.isExecutable(path);
        }

        @Override
        public String procSelfStatus() {
            try {
                return Files.readString(Path.of("/proc/self/status"));
            } catch (IOException | RuntimeException e) {
                return "";
            }
        }
    };

    /**
     * Whether the capability {@code bit} is in the set named {@code field} (CapEff, CapAmb, ...)
     * of a {@code /proc/PID/status} text; false if the field is missing.
     */
    static boolean hasCapability(String procStatus, String field, int bit) {
        for (String line : procStatus.split("\n")) {
            if (line.startsWith(field + ":")) {
                try {
                    long mask = Long.parseUnsignedLong(line.substring(field.length() + 1).strip(), 16);
                    return (mask & (1L << bit)) != 0;
                } catch (NumberFormatException e) {
                    return false;
                }
            }
        }
        return false;
    }
}
