package io.haraft.bench;

/** A system that cannot run here; the report prints {@code unavailable: <reason>} and goes on. */
final class Unavailable extends Exception {
    Unavailable(String reason) {
        super(reason);
    }
}
